"""Properties of the seed plan over generated trees (hypothesis): any acyclic tree comes out bases-first, whatever
the order it is written in; any cycle is reported, naming every index in it."""

from __future__ import annotations

import itertools

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.hostnative.devpi.plugins.filter.seed_plan import seed_plan
from hypothesis import given, settings
from hypothesis import strategies as st

USERS = [{"name": "team", "password": "team-Pass-1"}]


@st.composite
def acyclic_trees(draw):
    """Indexes team/i0..team/iN whose bases are earlier indexes (or root/pypi), written in a shuffled order."""
    count = draw(st.integers(min_value=1, max_value=9))
    indexes = []
    for number in range(count):
        earlier = [f"team/i{j}" for j in range(number)] + ["root/pypi"]
        bases = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=3))
        indexes.append({"name": f"team/i{number}", "bases": bases})
    return draw(st.permutations(indexes))


@settings(max_examples=150, deadline=None)
@given(acyclic_trees())
def test_any_acyclic_tree_comes_out_bases_first(indexes):
    planned = [index["name"] for index in seed_plan(indexes, USERS)]
    assert sorted(planned) == sorted(index["name"] for index in indexes)
    position = {name: number for number, name in enumerate(planned)}
    for index in indexes:
        for base in index["bases"]:
            if base != "root/pypi":
                assert position[base] < position[index["name"]], (index, planned)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=2, max_value=6), st.integers(min_value=0, max_value=4), st.randoms())
def test_any_cycle_is_reported_with_all_its_indexes(size, extra, random):
    ring = [f"team/r{number}" for number in range(size)]
    indexes = [{"name": name, "bases": [ring[(number + 1) % size]]} for number, name in enumerate(ring)]
    indexes += [{"name": f"team/x{number}", "bases": [ring[0]]} for number in range(extra)]  # hanging off the ring
    random.shuffle(indexes)
    with pytest.raises(AnsibleFilterError) as raised:
        seed_plan(indexes, USERS)
    message = str(raised.value)
    assert message.startswith("devpi_seed_indexes: bases form a cycle: ")
    chain = message.split(": ", 2)[2].split(" -> ")
    assert chain[0] == chain[-1]
    assert sorted(chain[:-1]) == sorted(ring)
    # Each step names an index and its base.
    bases = {index["name"]: index["bases"][0] for index in indexes}
    assert all(bases[a] == b for a, b in itertools.pairwise(chain))
