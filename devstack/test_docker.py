"""devstack/docker.py's pure parts; the daemon itself is exercised by tests/images."""

from __future__ import annotations

from devstack import docker

STATUS = "Name:\tpython3\nCapPrm:\t0000000000000000\nCapBnd:\t{}\nCapAmb:\t0000000000000000\n"


def test_cap_sys_resource_is_read_from_the_bounding_set() -> None:
    assert not docker.lacks_cap_sys_resource(STATUS.format("000001ffffffffff"))  # all caps
    assert docker.lacks_cap_sys_resource(STATUS.format("000001fffeffffff"))  # bit 24 cleared


def test_the_wrapper_drops_only_cap_sys_resource_and_runs_the_real_runc() -> None:
    script = docker.WRAPPER_SOURCE.read_text()
    assert 'select(. != "CAP_SYS_RESOURCE")' in script
    assert script.rstrip().endswith(f'exec {docker.REAL_RUNC} "$@"')
