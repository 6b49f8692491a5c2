"""Who may use the staff preview, on every staff URL: the page, one practice's section (the htmx
fragment, with and without htmx) and the CSV export."""

from urllib.parse import urlencode

import pytest

from booking_site.availability.models import StaffSearch
from tests.availability.conftest import at, next_monday, next_week_query

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HTTP_HX_REQUEST": "true"}
FORBIDDEN_HEADING = "You cannot use this page"


def staff_urls(ods: str = "A20047") -> list[tuple[str, dict]]:
    """(URL, extra request headers) for every staff URL, asking about ``ods`` next week."""
    query = urlencode(next_week_query(ods), doseq=True)
    return [
        ("/staff/availability/", {}),
        (f"/staff/availability/?{query}", {}),
        (f"/staff/availability/practice/{ods}/?{query}", {}),
        (f"/staff/availability/practice/{ods}/?{query}", HTMX),
        (f"/staff/availability/free-slots.csv?{query}", {}),
    ]


URL_NAMES = ["page", "preview", "fragment", "fragment (htmx)", "export"]


@pytest.mark.parametrize("index", range(5), ids=URL_NAMES)
def test_anonymous_people_are_sent_to_sign_in(world, index):
    url, headers = staff_urls()[index]

    response = world.client_for(None).get(url, **headers)

    if headers:
        # htmx follows redirects inside the page: it is told to load the sign-in page instead.
        assert response.status_code == 200
        assert response["HX-Redirect"].startswith("/account/sign-in/?next=")
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/account/sign-in/?next=/staff/availability/")
    assert not StaffSearch.objects.exists()


@pytest.mark.parametrize(
    "persona", ["patient", "without_permission", "unlinked_staff", "superuser"]
)
@pytest.mark.parametrize("index", range(5), ids=URL_NAMES)
def test_people_who_are_not_practice_staff_are_refused_on_every_staff_url(world, persona, index):
    # A patient (even one holding the permission and a practice), someone signed in without the
    # preview permission, staff linked to no practice, and a superuser linked to no practice.
    url, headers = staff_urls()[index]

    response = world.client_for(getattr(world, persona)).get(url, **headers)

    assert response.status_code == 403
    assert FORBIDDEN_HEADING in response.content.decode()
    assert not StaffSearch.objects.exists()


@pytest.mark.parametrize("index", range(1, 5), ids=URL_NAMES[1:])
def test_staff_asking_about_another_federations_practice_are_refused(world, index):
    world.slots("B82617", at(next_monday(), 9), 2)
    url, headers = staff_urls("B82617")[index]

    response = world.client_for(world.staff).get(url, **headers)

    assert response.status_code == 403
    assert not StaffSearch.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        # Their own practice alongside another federation's.
        {"who": "chosen", "practices": ["A20047", "B82617"]},
        # A practice that is in no directory at all: refused alike, so as to say nothing.
        {"who": "chosen", "practices": ["Z99999"]},
    ],
    ids=["mixed", "unknown"],
)
def test_any_practice_outside_the_staff_members_federations_is_refused(world, query):
    client = world.client_for(world.staff)

    for url in ("/staff/availability/", "/staff/availability/free-slots.csv"):
        response = client.get(url, {**query, "week": next_monday().isoformat()})
        assert response.status_code == 403, url


def test_another_federation_as_a_whole_is_refused(world):
    client = world.client_for(world.staff)
    query = {"who": f"federation-{world.other_federation.pk}", "week": next_monday().isoformat()}

    assert client.get("/staff/availability/", query).status_code == 403
    assert client.get("/staff/availability/free-slots.csv", query).status_code == 403
    # The fragment of their own practice, asked with the other federation in its query.
    fragment = "/staff/availability/practice/A20047/"
    assert client.get(fragment, query, **HTMX).status_code == 403


def test_a_fragment_for_a_practice_not_in_the_preview_is_not_found(world):
    query = next_week_query("A20047")

    response = world.client_for(world.staff).get(
        "/staff/availability/practice/B86019/", query, **HTMX
    )

    assert response.status_code == 404


def test_staff_see_their_own_federations_practices_on_every_staff_url(world):
    world.slots("A20047", at(next_monday(), 9), 2)
    client = world.client_for(world.staff)

    statuses = [client.get(url, **headers).status_code for url, headers in staff_urls()]

    # Without htmx, the fragment's address shows the whole preview instead.
    assert statuses == [200, 200, 302, 200, 200]


def test_staff_in_another_federation_see_only_theirs(world):
    client = world.client_for(world.other_staff)

    page = client.get("/staff/availability/").content.decode()

    assert "Every practice in Hillcrest Primary Care Network" in page
    assert "Hillcrest Surgery" in page
    assert "North Riverside" not in page
    assert "Riverside Medical Practice" not in page


def test_a_superuser_linked_to_a_practice_is_practice_staff(world):
    world.superuser.staff_practices.set([world.practices["A20047"]])

    response = world.client_for(world.superuser).get(
        "/staff/availability/", next_week_query("A20047")
    )

    assert response.status_code == 200


def test_signing_in_from_a_fragment_returns_to_the_page_it_was_on(world):
    page = "http://testserver/staff/availability/?who=chosen&practices=A20047"

    response = world.client_for(None).get(
        "/staff/availability/practice/A20047/", HTTP_HX_CURRENT_URL=page, **HTMX
    )

    assert response["HX-Redirect"] == (
        "/account/sign-in/?next=/staff/availability/%3Fwho%3Dchosen%26practices%3DA20047"
    )


def test_staff_pages_only_answer_get(world):
    client = world.client_for(world.staff)

    assert client.post("/staff/availability/").status_code == 405
    assert client.post("/staff/availability/free-slots.csv").status_code == 405


@pytest.mark.parametrize(
    ("persona", "offered"),
    [("staff", True), ("patient", False), ("without_permission", False), (None, False)],
)
def test_the_header_and_home_page_offer_the_preview_to_practice_staff_only(world, persona, offered):
    html = world.client_for(getattr(world, persona) if persona else None).get("/").content.decode()

    assert ('href="/staff/availability/"' in html) is offered
    assert ("Book an appointment" not in html) is offered
