"""Stored XSS: customer text is inert on every page that shows it.

Each vector goes into every customer-supplied field the ingest service accepts (customer ref,
name, email where it is a valid address, subject, notes, message text and author, tags, reason
names created by an import, a lifecycle event's reason text), as a contact in the rep's team
and an earlier one in another team (so the timeline and the repeat banner show it too). Then
every page that shows them is fetched and parsed: no element, attribute or URL may come from a
vector, and each vector must still be shown, as text. The people pages show no customer text
and are not part of this.
"""

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, CustomerEvent

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

# Each starts with a marker (X<n>_) so it can be found after truncation and lower-casing.
PAYLOADS = [
    '<script>alert("x")</script>',
    '<img src=x onerror=alert("x")>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    '" onmouseover="alert(\'x\')" x="',
    "' onfocus='alert(1)' autofocus x='",
    'javascript:alert("x")',
    "<a href=\"javascript:alert('x')\">click</a>",
    '</textarea><script>alert("x")</script>',
    "</title><script>alert(1)</script>",
    "{{ request.user.password }} {% debug %}",
    "{% csrf_token %}{{ 7|add:7 }}{{7*7}}",
    '<iframe src="javascript:alert(`x`)"></iframe>',
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "\u202e<script>alert(1)</script>",  # right-to-left override
    "＜script＞alert(1)＜/script＞",  # fullwidth brackets
    "<scr<script>ipt>alert(1)</script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",  # pre-escaped: must not be decoded into a tag
    '<style>@import "javascript:alert(1)";</style>',
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">o</object>',
    "<input autofocus onfocus=alert(1)>",
    "<!--c--><script>alert(1)</script>",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "\u200b<\u200bscript>alert(1)</script>",  # zero-width space
    '<div hx-get="/admin/" hx-trigger="load">h</div>',  # htmx would act on these attributes
    '<b hx-on:click="alert(1)">h</b>',
    "'\"><svg/onload=alert(1)>",
    'data:text/html,<script>alert("x")</script>',
    "<template><script>alert(1)</script></template>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",  # JSON-escaped
    "<a href=\"&#106;avascript:alert('x')\">j</a>",
    '%3Cscript%3Ealert("x")%3C/script%3E',
    "\u2028<script>\u2029alert(1)</script>",  # JS line separators
    '<a href="java\tscript:alert(1)">t</a>',
]
VECTORS = [f"X{n}_{payload}" for n, payload in enumerate(PAYLOADS)]
EMAILS = [  # vectors that are valid email addresses (quoted local parts and odd atoms)
    '"<script>alert(1)</script>"@example.com',
    "x'onmouseover='alert`1`'@example.com",
    "{{7*7}}@example.com",
    '"\\"><svg/onload=alert(1)>"@example.com',
    '"javascript:alert(1)"@example.com',
]
MARKER = re.compile(r"x\d+_", re.IGNORECASE)

# Everything the contacts pages and base.html render; anything else came from a vector.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "link", "script", "body", "header", "nav", "main", "div",
    "span", "a", "form", "input", "button", "ul", "ol", "li", "h1", "h2", "p", "section",
    "table", "thead", "tbody", "tr", "th", "td", "time", "dl", "dt", "dd", "label", "select",
    "option", "optgroup", "textarea", "fieldset", "legend", "strong", "mark",
    "details", "summary", "em",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "lang", "charset", "name", "content", "rel", "href", "src", "defer", "class", "id",
    "type", "value", "method", "action", "for", "role", "aria-label", "aria-current",
    "datetime", "colspan", "placeholder", "autocomplete", "maxlength", "checked", "selected",
    "rows", "cols", "novalidate", "required", "multiple", "disabled", "step", "min", "max",
    "hx-headers", "hx-get", "hx-post", "hx-trigger", "hx-target", "hx-swap", "hx-include",
    "label", "hx-vals",
    "tabindex", "inputmode", "title", "start",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "poster"}


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.script_text: list[str] = []
        self.comments: list[str] = []
        self._in_script = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, attrs))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        (self.script_text if self._in_script else self.text).append(data)

    def handle_comment(self, data):
        self.comments.append(data)

    def handle_pi(self, data):
        self.comments.append(data)

    def unknown_decl(self, data):
        self.comments.append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def assert_inert(html: str, *, shown: list[str] = (), where: str = "") -> None:
    """No element, attribute or URL of the page comes from a vector; ``shown`` (vectors or
    markers) appear as text."""
    page = Page(html)
    for tag, attrs in page.elements:
        assert tag in ALLOWED_TAGS, f"{where}: <{tag}> element"
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES or name.startswith(("data-", "aria-")), (
                f"{where}: attribute {name} on <{tag}>"
            )
            assert not name.startswith("on"), f"{where}: event handler {name}"
            value = value or ""
            # An input's value and an optgroup's label may hold customer text, nothing else may.
            if name not in {"value", "label"}:
                assert not MARKER.search(value), f"{where}: customer text in <{tag} {name}>"
            if name in URL_ATTRIBUTES:
                squashed = re.sub(r"[\s\x00-\x1f]", "", value).lower()
                assert not squashed.startswith(("javascript:", "data:", "vbscript:")), where
        if tag == "script":
            src = dict(attrs).get("src") or ""
            assert src.startswith("/static/"), f"{where}: a script that is not ours"
        if tag == "meta":
            assert "http-equiv" not in dict(attrs), where
    assert not "".join(page.script_text).strip(), f"{where}: inline script text"
    assert not any(MARKER.search(comment) for comment in page.comments), where
    text = page.all_text.lower()
    for item in shown:
        assert item.lower() in text, f"{where}: {item!r} is not shown as text"


def raw_absent(html: str, vectors: list[str], where: str) -> None:
    for vector in vectors:
        if any(char in vector for char in "<>\"'"):
            assert vector not in html, f"{where}: unescaped {vector!r}"


@pytest.fixture
def hostile(cast):
    """For each vector: a team A contact (the rep's) and an earlier team B one, same customer."""
    rows = []
    for n, vector in enumerate(VECTORS):
        common = {
            "source": "xss",
            "channel": "email",
            "customer_ref": vector[:100],
            "customer_name": vector,
            "subject": vector,
            "notes": vector,
            "tags": [vector, "plain"],
            "reason": [f"P{n}{vector}"[:120], vector[:120]],
            "messages": [
                {"direction": "incoming", "author": vector, "text": vector},
                {"direction": "outgoing", "author": vector, "text": f"reply {vector}"},
            ],
        }
        if n < len(EMAILS):
            common["customer_email"] = EMAILS[n]
        rows.append({**common, "external_id": f"a-{n}", "team": cast.team_a.name,
                     "occurred_at": (T0 + timedelta(hours=n)).isoformat()})  # fmt: skip
        rows.append({**common, "external_id": f"b-{n}", "team": cast.team_b.name,
                     "occurred_at": (T0 + timedelta(hours=n, minutes=-30)).isoformat()})  # fmt: skip
    result = contacts_ingest(rows=rows, create_reasons=True)
    assert not result.rejected, result.rejected
    contacts = {
        contact.external_id: contact
        for contact in Contact.objects.filter(source="xss").select_related("customer")
    }
    for n, vector in enumerate(VECTORS):
        CustomerEvent.objects.create(
            customer=contacts[f"a-{n}"].customer,
            kind="lost",
            occurred_on=T0.date(),
            reason_text=vector,
        )
    return [(vector, contacts[f"a-{n}"]) for n, vector in enumerate(VECTORS)]


def test_the_vectors_are_stored_as_written(hostile):
    # Otherwise the page checks below would prove nothing.
    vector, contact = hostile[0]
    assert contact.subject == vector == contact.customer.name
    assert contact.reason.name == vector
    assert contact.messages.first().text == vector
    assert contact.customer.email == EMAILS[0]


def test_the_contact_list_is_inert(client, cast, hostile):
    vectors = [vector for vector, _ in hostile]
    for role in ("rep", "executive"):
        client.force_login(getattr(cast, role))
        html = client.get(reverse("contacts:contact-list")).content.decode()
        raw_absent(html, vectors, f"list as {role}")
        markers = [vector.split("_")[0] + "_" for vector in vectors]
        assert_inert(html, shown=markers, where=f"list as {role}")


def test_the_contact_and_customer_pages_are_inert(client, cast, hostile):
    for role in ("rep", "executive"):
        client.force_login(getattr(cast, role))
        for vector, contact in hostile:
            pages = {
                "contact": reverse("contacts:contact-detail", args=[contact.id]),
                "customer": reverse("contacts:customer-detail", args=[contact.customer_id]),
                "log form": reverse("contacts:contact-log") + f"?customer={contact.customer_id}",
            }
            if role == "executive":
                del pages["log form"]  # executives do not log contacts
            for name, url in pages.items():
                response = client.get(url)
                assert response.status_code == 200, (name, role)
                html = response.content.decode()
                where = f"{name} page of {vector[:8]} as {role}"
                raw_absent(html, [vector], where)
                # The name is shown everywhere; the words on the contact page (and its notes
                # in the edit form's textarea, for the rep).
                shown = [vector] if name != "log form" else [vector[:100]]
                if name == "contact":
                    shown.append(f"reply {vector}")
                assert_inert(html, shown=shown, where=where)


def test_the_timeline_and_repeat_banner_show_out_of_scope_contacts_inertly(client, cast, hostile):
    client.force_login(cast.rep)
    vector, contact = hostile[2]
    html = client.get(reverse("contacts:contact-detail", args=[contact.id])).content.decode()
    page = Page(html)
    banner = html.split('data-testid="repeat-banner"')[1].split("</section>")[0]
    assert "&lt;svg onload=alert(1)&gt;" in banner  # the team B contact's reason, escaped
    assert_inert(html, shown=[f"Email · P2{vector}"], where="timeline")
    assert len(page.elements) > 50


def test_htmx_fragments_are_inert(client, cast, hostile):
    client.force_login(cast.rep)
    vectors = [vector for vector, _ in hostile]
    url = reverse("contacts:customer-search")
    for query in ("X1", "X2", "X3", "X4", "script", "svg", "onload", "javascript"):
        for params, htmx in (
            ({"q": query, "pick": "1"}, True),
            ({"q": query}, True),
            ({"q": query}, False),
        ):
            extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
            html = client.get(url, params, **extra).content.decode()
            raw_absent(html, vectors, f"search {query}")
            assert_inert(html, where=f"search {query} {params}")
    _, contact = hostile[6]  # the attribute breakout, through the edit form's tags
    response = client.post(
        reverse("contacts:contact-edit", args=[contact.id]),
        {"tags": VECTORS[6] + ", " + VECTORS[10]},
    )
    assert response.status_code == 302
    html = client.get(reverse("contacts:contact-detail", args=[contact.id])).content.decode()
    raw_absent(html, VECTORS, "tags on the contact page")
    assert_inert(html, shown=["x6_", "x10_"], where="tags on the contact page")
    html = client.post(
        reverse("contacts:road-suggestion"),
        {"contact": contact.id, "tags": VECTORS[0], "customer_words": VECTORS[1]},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert_inert(html, where="road suggestion")


def test_a_contact_logged_on_the_page_with_vectors_is_inert(client, cast, hostile):
    client.force_login(cast.rep)
    vector = VECTORS[10]  # </textarea><script>: the notes come back in the edit form's textarea
    response = client.post(
        reverse("contacts:contact-log"),
        {
            "customer": "",
            "customer_name": vector,
            "customer_email": EMAILS[0],
            "channel": "phone",
            "direction": "inbound",
            "occurred_at": "2026-11-02T10:00",
            "subject": vector,
            "tags": VECTORS[7],
            "customer_words": vector,
            "reply": VECTORS[6],
            "notes": vector,
        },
    )
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    raw_absent(html, [vector, VECTORS[6], VECTORS[7]], "logged contact")
    assert_inert(html, shown=[vector, VECTORS[6]], where="logged contact")


def test_message_search_and_its_highlights_are_inert(client, cast, hostile):
    """Each vector's own marker is searched for, so the vector is the highlighted text."""
    for role in ("rep", "executive"):
        client.force_login(getattr(cast, role))
        for n, vector in enumerate(VECTORS):
            marker = f"X{n}"
            where = f"search for {marker} as {role}"
            response = client.get(reverse("contacts:message-search"), {"q": marker})
            assert response.status_code == 200, where
            html = response.content.decode()
            raw_absent(html, [vector], where)
            assert_inert(html, where=where)
            assert f"<mark>{marker}</mark>" in html, where
            body = client.get("/api/v1/messages/search/", {"q": marker}).json()
            assert body["results"], where
            for hit in body["results"]:
                raw_absent(hit["highlight"], [vector], where)
                highlight = Page(hit["highlight"])
                assert {tag for tag, _ in highlight.elements} == {"mark"}, where
                assert all(attrs == [] for _, attrs in highlight.elements), where
