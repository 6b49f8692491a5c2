"""Assertions on sandbox responses."""

SPINE_SYSTEM = "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1"
OUTCOME_PROFILE = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1"


def assert_outcome(response, status: int, code: str, diagnostics: str | None = None) -> dict:
    """The response is a GP Connect OperationOutcome with this status, Spine code and (part of
    its) diagnostics; returns the issue."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/fhir+json;charset=utf-8"
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["meta"]["profile"] == [OUTCOME_PROFILE]
    issue = outcome["issue"][0]
    assert issue["severity"] == "error"
    coding = issue["details"]["coding"][0]
    assert coding["system"] == SPINE_SYSTEM
    assert coding["code"] == code
    assert coding["display"]
    if diagnostics is not None:
        assert diagnostics in issue["diagnostics"], issue["diagnostics"]
    return issue


def entries(bundle: dict, resource_type: str | None = None) -> list[dict]:
    resources = [entry["resource"] for entry in bundle.get("entry", [])]
    if resource_type:
        resources = [r for r in resources if r["resourceType"] == resource_type]
    return resources
