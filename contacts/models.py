from django.db import models


class Customer(models.Model):
    """A customer of the company, as known to its systems (matched by reference, email, phone)."""

    class Segment(models.TextChoices):
        CONSUMER = "consumer", "Consumer"
        SMALL_BUSINESS = "small_business", "Small business"
        ENTERPRISE = "enterprise", "Enterprise"

    external_ref = models.CharField(
        max_length=100, null=True, blank=True, unique=True, help_text="The id in the CRM."
    )
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254, blank=True, db_index=True)
    phone = models.CharField(max_length=32, blank=True)
    segment = models.CharField(
        max_length=20, choices=Segment.choices, default=Segment.CONSUMER, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name or self.external_ref or f"Customer {self.pk}"
