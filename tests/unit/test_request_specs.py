"""Specs of resource requests: normalize, validate, expand, size, adjust, diff (pure logic)."""
from portal.specs import (allocation, apply_adjustment, change_problems, diff_specs, expand, normalize_spec,
                          parse_ports, validate_spec)

CATALOG = {"flavors": [{"name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1},
                       {"name": "m1.medium", "vcpus": 2, "ram": 4096, "disk": 40}],
           "images": [{"name": "cirros-devcloud"}]}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIItf/jqPVVzEguJVqd69R2JN+E161JvmC/nK7GUjFqmV test"


def spec(**over):
    raw = {"servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": "2",
                        "data_volumes": "1, 2"}],
           "volumes": [{"name": "shared", "size_gb": "5", "attach_to": "web-1"}, {"name": "", "size_gb": ""}],
           "rules": [{"port": "22", "protocol": "tcp", "source": "10.0.0.0/8"}, {"port": "", "source": ""}],
           "network": {"cidr": "192.168.10.0/24"}, "floating_ips": "1", "ssh_public_key": KEY}
    raw.update(over)
    return normalize_spec(raw)


def test_normalize_drops_empty_rows_and_parses_numbers():
    s = spec()
    assert s["servers"][0]["count"] == 2 and s["servers"][0]["data_volumes"] == [1, 2]
    assert len(s["volumes"]) == 1 and len(s["rules"]) == 1 and s["floating_ips"] == 1


def test_valid_spec_expands_and_sizes():
    s = spec()
    assert validate_spec(s, CATALOG) == []
    instances, volumes = expand(s)
    assert [i["name"] for i in instances] == ["web-1", "web-2"]
    assert [v["name"] for v in volumes] == ["web-1-d1", "web-1-d2", "web-2-d1", "web-2-d2", "shared"]
    assert allocation(s, CATALOG["flavors"]) == {"instances": 2, "cores": 2, "ram": 1024, "volumes": 5,
                                                 "gigabytes": 11, "floating_ips": 1}


def test_every_problem_is_named():
    bad = spec(servers=[{"name": "Web!", "flavor": "m9", "image": "nope", "count": 99, "data_volumes": "0"}],
               volumes=[{"name": "v", "size_gb": 0, "attach_to": "db-1"}],
               rules=[{"port": "70000", "protocol": "sctp", "source": "everyone"}],
               network={"cidr": "8.8.8.0/24"}, floating_ips=500, ssh_public_key="hello")
    fields = [f for f, _ in validate_spec(bad, CATALOG)]
    assert fields.count("servers-1") == 5
    assert fields.count("volumes-1") == 2
    assert fields.count("rules-1") == 3
    assert {"network", "floating_ips", "ssh_public_key"} <= set(fields)
    assert validate_spec(normalize_spec({}), CATALOG)[0][0] == "servers"


def test_ports():
    assert parse_ports("443") == (443, 443)
    assert parse_ports("8000-8080") == (8000, 8080)
    assert parse_ports("0") is None and parse_ports("9-1") is None and parse_ports("x") is None


def test_adjustment_is_kept_as_a_diff():
    s = spec()
    approved = apply_adjustment(s, counts={"web": 1}, volume_sizes={"shared": 3}, floating_ips=0)
    assert diff_specs(s, approved) == [
        {"item": "server web", "field": "count", "from": 2, "to": 1},
        {"item": "volume shared", "field": "size_gb", "from": 5, "to": 3},
        {"item": "floating_ips", "field": "", "from": 1, "to": 0}]
    assert diff_specs(s, s) == []


def test_changes_the_cloud_cannot_do():
    s = spec()
    smaller = apply_adjustment(s, volume_sizes={"shared": 1})
    assert [f for f, _ in change_problems(s, smaller)] == ["volumes"]
    other_net = spec(network={"cidr": "192.168.20.0/24"})
    assert [f for f, _ in change_problems(s, other_net)] == ["network"]
    bigger = spec(servers=[{"name": "web", "flavor": "m1.medium", "image": "cirros-devcloud", "count": 3}])
    assert change_problems(s, bigger) == []


def test_one_server_of_a_group_is_changed_or_cancelled_alone():
    """附件2 per server (issue 17): a group's line for one server resizes or cancels it alone."""
    from portal.specs import diff_specs, expand, normalize_spec, removals
    group = {"name": "app", "flavor": "m1.tiny", "image": "cirros", "count": 2, "data_volumes": [1]}
    current = normalize_spec({"servers": [group]})
    resized = normalize_spec({"servers": [{**group, "instances": {"app-2": {"flavor": "m1.small"},
                                                                   "app-9": {"cancel": True},  # not in the group
                                                                   "app-1": {"flavor": "m1.tiny"}}}]})
    assert resized["servers"][0]["instances"] == {"app-2": {"flavor": "m1.small"}}
    assert [(i["name"], i["flavor"]) for i in expand(resized)[0]] == [("app-1", "m1.tiny"), ("app-2", "m1.small")]
    assert diff_specs(current, resized) == [{"item": "server app-2", "field": "flavor", "from": "m1.tiny",
                                             "to": "m1.small"}]
    assert removals(current, resized) == []
    cancelled = normalize_spec({"servers": [{**group, "instances": {"app-1": {"cancel": True}}}]})
    instances, volumes = expand(cancelled)
    assert [i["name"] for i in instances] == ["app-2"] and [v["name"] for v in volumes] == ["app-2-d1"]
    assert diff_specs(current, cancelled) == [{"item": "server app-1", "field": "", "from": "present", "to": "removed"}]
    assert removals(current, cancelled) == ["app-1", "app-1-d1"]
    # a spec without lines stays as it was (no key added)
    assert "instances" not in current["servers"][0]
