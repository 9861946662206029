from importlib import metadata

from qa.core.versions import library_versions


def test_installed_versions_in_the_order_given_and_absent_for_a_missing_one() -> None:
    got = library_versions(("numpy", "no-such-distribution-qa", "pydantic"))
    assert list(got) == ["numpy", "no-such-distribution-qa", "pydantic"]
    assert got["numpy"] == metadata.version("numpy")
    assert got["no-such-distribution-qa"] == "absent"
    assert got["pydantic"] == metadata.version("pydantic")
