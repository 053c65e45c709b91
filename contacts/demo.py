"""Demo customers, in volume: bulk inserts, so benchmarks can seed hundreds of thousands."""

from contacts.models import Customer
from voc.core.demo import DemoContext

FIRST = [
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Drew",
    "Noor", "Mateo", "Priya", "Lena", "Omar", "Hana", "Luca", "Sofia", "Kwame", "Mei",
]  # fmt: skip
LAST = [
    "Smith", "Jones", "Brown", "Wilson", "Taylor", "Clarke", "Ahmed", "Kim", "Lopez", "Meyer",
    "Singh", "Walsh", "Berg", "Rahman", "Costa", "Young", "Hall", "Park", "Duarte", "Ward",
]  # fmt: skip
SEGMENTS = [
    (Customer.Segment.CONSUMER, 80),
    (Customer.Segment.SMALL_BUSINESS, 15),
    (Customer.Segment.ENTERPRISE, 5),
]
BATCH = 5000


def seed_customers(ctx: DemoContext) -> None:
    rng = ctx.rng
    segments = [segment for segment, _ in SEGMENTS]
    weights = [weight for _, weight in SEGMENTS]
    batch: list[Customer] = []
    for number in range(1, ctx.customers + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        batch.append(
            Customer(
                external_ref=f"CRM-{number:07d}",
                name=f"{first} {last}",
                email=f"{first}.{last}.{number}@mail.example".lower(),
                phone=f"+1555{rng.randrange(10**7):07d}",
                segment=rng.choices(segments, weights)[0],
            )
        )
        if len(batch) >= BATCH:
            Customer.objects.bulk_create(batch)
            batch.clear()
    Customer.objects.bulk_create(batch)
    ctx.stdout(f"  contacts: {ctx.customers} customers")
