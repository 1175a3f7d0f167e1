"""The ledger's Merkle tree against a naive RFC 9162 reference and the published CT test vectors."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blastdoor.errors import BlastdoorError
from blastdoor.ledger.entry import leaf_hash
from blastdoor.ledger.merkle import (
    EMPTY_ROOT,
    Frontier,
    MerkleError,
    ProofError,
    consistency_proof,
    inclusion_proof,
    node_hash,
    root,
    subtree_keys,
)
from blastdoor.ledger.merkle_verify import TAMPER_HINT, verify_consistency, verify_inclusion

# --- A naive reference, written straight from RFC 9162, section 2.1, over a list of leaf hashes ---


def ref_mth(leaves: Sequence[bytes]) -> bytes:
    """2.1.1: MTH({}) = HASH(), MTH({d}) = the leaf hash, else split at the largest 2**j < n."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:])).digest()


def ref_split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """2.1.3.1: PATH(m, D[n])."""
    n = len(leaves)
    if n <= 1:
        return []
    k = ref_split(n)
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    """2.1.4.1: SUBPROOF(m, D[n], b)."""
    n = len(leaves)
    if m == n:
        return [] if complete else [ref_mth(leaves)]
    k = ref_split(n)
    if m <= k:
        return [*ref_subproof(m, leaves[:k], complete), ref_mth(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), ref_mth(leaves[:k])]


def ref_proof(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    return ref_subproof(m, leaves, True) if 0 < m < len(leaves) else []


MAX = 300
LEAVES = [hashlib.sha256(b"\x00" + b"entry %d" % i).digest() for i in range(MAX)]


@cache
def ref_nodes() -> dict[tuple[int, int], bytes]:
    """Every complete aligned subtree of LEAVES, each computed by ref_mth on its own."""
    nodes: dict[tuple[int, int], bytes] = {}
    level = 0
    while 1 << level <= MAX:
        width = 1 << level
        for index in range(MAX // width):
            nodes[(level, index)] = ref_mth(LEAVES[index * width : (index + 1) * width])
        level += 1
    return nodes


class DictSource:
    """A NodeSource over a dict that refuses nodes not complete in a tree of ``size`` leaves."""

    def __init__(self, nodes: dict[tuple[int, int], bytes], size: int) -> None:
        self._nodes = nodes
        self._size = size
        self.calls: list[list[tuple[int, int]]] = []

    def nodes(self, keys: Sequence[tuple[int, int]]) -> list[bytes]:
        self.calls.append(list(keys))
        for level, index in keys:
            assert (index + 1) << level <= self._size, f"node {(level, index)} is not complete"
        return [self._nodes[key] for key in keys]


def source(size: int) -> DictSource:
    return DictSource(ref_nodes(), size)


sizes = st.integers(min_value=1, max_value=MAX)


@st.composite
def size_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(sizes)
    return size, draw(st.integers(min_value=0, max_value=size - 1))


@st.composite
def old_and_new(draw: st.DrawFn) -> tuple[int, int]:
    new = draw(sizes)
    return draw(st.integers(min_value=0, max_value=new)), new


# --- Known answers: the RFC 6962 vectors of transparency-dev/merkle (proof/verify_test.go) ---

CT_BODIES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243")] + [
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [  # (0-based leaf index, tree size, path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CT_CONSISTENCY = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip


def frontier_of(leaves: Sequence[bytes]) -> tuple[Frontier, dict[tuple[int, int], bytes]]:
    """A frontier fed ``leaves`` and the node table a store would hold after it."""
    frontier = Frontier()
    table = {(0, i): leaf for i, leaf in enumerate(leaves)}
    for leaf in leaves:
        table.update({(level, index): h for level, index, h in frontier.push(leaf)})
    return frontier, table


@pytest.fixture
def ct_source() -> DictSource:
    _, table = frontier_of([leaf_hash(body) for body in CT_BODIES])
    return DictSource(table, len(CT_BODIES))


def test_empty_root_and_node_hash_follow_rfc_9162() -> None:
    assert EMPTY_ROOT.hex() == CT_ROOTS[0]
    left, right = LEAVES[0], LEAVES[1]
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert node_hash(left, right) != node_hash(right, left)
    assert node_hash(left, right) != leaf_hash(left + right)  # 0x00 / 0x01 domain separation


def test_roots_match_published_ct_vectors(ct_source: DictSource) -> None:
    frontier = Frontier()
    assert frontier.root().hex() == CT_ROOTS[0]
    for size, body in enumerate(CT_BODIES, start=1):
        frontier.push(leaf_hash(body))
        assert frontier.root().hex() == CT_ROOTS[size]
        assert root(ct_source, size).hex() == CT_ROOTS[size]
    assert root(ct_source, 0) == EMPTY_ROOT


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_inclusion_proofs_match_published_ct_vectors(
    ct_source: DictSource, index: int, size: int, path: list[str]
) -> None:
    proof = inclusion_proof(ct_source, index, size)
    assert [h.hex() for h in proof] == path
    leaf = leaf_hash(CT_BODIES[index])
    verify_inclusion(
        leaf=leaf, index=index, size=size, proof=proof, root=bytes.fromhex(CT_ROOTS[size])
    )


@pytest.mark.parametrize(("old", "new", "path"), CT_CONSISTENCY)
def test_consistency_proofs_match_published_ct_vectors(
    ct_source: DictSource, old: int, new: int, path: list[str]
) -> None:
    proof = consistency_proof(ct_source, old, new)
    assert [h.hex() for h in proof] == path
    old_root, new_root = bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new])
    verify_consistency(
        old_size=old, new_size=new, old_root=old_root, new_root=new_root, proof=proof
    )


# --- Property tests against the reference ---


@given(st.integers(min_value=0, max_value=MAX))
def test_root_matches_reference_in_one_fetch(size: int) -> None:
    src = source(size)
    assert root(src, size) == ref_mth(LEAVES[:size])
    assert len(src.calls) == (1 if size else 0)
    assert all(len(call) == size.bit_count() for call in src.calls)


@given(size_and_index())
def test_inclusion_proof_matches_reference_and_verifies(case: tuple[int, int]) -> None:
    size, index = case
    src = source(size)
    proof = inclusion_proof(src, index, size)
    assert proof == ref_path(index, LEAVES[:size])
    assert len(src.calls) == (1 if size > 1 else 0)
    assert sum(map(len, src.calls)) <= 2 * size.bit_length()
    verify_inclusion(
        leaf=LEAVES[index], index=index, size=size, proof=proof, root=ref_mth(LEAVES[:size])
    )


@given(old_and_new())
def test_consistency_proof_matches_reference_and_verifies(case: tuple[int, int]) -> None:
    old, new = case
    src = source(new)
    proof = consistency_proof(src, old, new)
    assert proof == ref_proof(old, LEAVES[:new])
    assert len(src.calls) <= 1
    assert sum(map(len, src.calls)) <= 2 * new.bit_length()
    old_root, new_root = ref_mth(LEAVES[:old]), ref_mth(LEAVES[:new])
    verify_consistency(
        old_size=old, new_size=new, old_root=old_root, new_root=new_root, proof=proof
    )


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=40), st.data())
def test_any_bodies_even_repeated_ones_agree_with_reference(
    bodies: list[bytes], data: st.DataObject
) -> None:
    leaves = [leaf_hash(body) for body in bodies]
    frontier, table = frontier_of(leaves)
    size = len(leaves)
    src = DictSource(table, size)
    assert frontier.root() == root(src, size) == ref_mth(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = inclusion_proof(src, index, size)
    assert proof == ref_path(index, leaves)
    verify_inclusion(leaf=leaves[index], index=index, size=size, proof=proof, root=ref_mth(leaves))
    old = data.draw(st.integers(min_value=0, max_value=size))
    proof = consistency_proof(src, old, size)
    assert proof == ref_proof(old, leaves)
    verify_consistency(
        old_size=old,
        new_size=size,
        old_root=ref_mth(leaves[:old]),
        new_root=ref_mth(leaves),
        proof=proof,
    )


# --- Tampering: every altered proof or claim fails ---


def tampered_lists(proof: list[bytes], byte_at: int) -> list[list[bytes]]:
    """The proof with one hash's byte flipped, one hash dropped, added or moved."""
    stranger = hashlib.sha256(b"not in the tree").digest()
    out: list[list[bytes]] = []
    for i, h in enumerate(proof):
        flipped = bytearray(h)
        flipped[byte_at % len(h)] ^= 0x01
        out.append([*proof[:i], bytes(flipped), *proof[i + 1 :]])
        out.append(proof[:i] + proof[i + 1 :])
        out.append([*proof[:i], h, *proof[i:]])
        for j in range(i + 1, len(proof)):
            swapped = list(proof)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            out.append(swapped)
    for i in range(len(proof) + 1):
        out.append([*proof[:i], stranger, *proof[i:]])
    out += [[*proof, EMPTY_ROOT], [*proof, b""], [*proof[:-1], proof[-1][:31]] if proof else [b""]]
    return out


def fails(check: Callable[[], None]) -> bool:
    try:
        check()
    except ProofError:
        return True
    return False


def other_sizes(size: int) -> set[int]:
    return {size - 1, size + 1, size * 2, size // 2, size + 7, 0, -1} - {size}


def shape(size: int) -> list[bytes]:
    """Stand-in leaves for a tree of ``size``: proof lengths depend on the shape alone."""
    return [bytes(32)] * size


@settings(deadline=None)  # many verifications per example; the machine is shared
@given(size_and_index(), st.integers(min_value=0, max_value=31))
def test_every_tampered_inclusion_proof_fails(case: tuple[int, int], byte_at: int) -> None:
    size, index = case
    leaves, good_root = LEAVES[:size], ref_mth(LEAVES[:size])
    proof = ref_path(index, leaves)

    def check(leaf: bytes = LEAVES[index], i: int = index, n: int = size, p: Sequence[bytes] = proof,
              r: bytes = good_root) -> Callable[[], None]:  # fmt: skip
        return lambda: verify_inclusion(leaf=leaf, index=i, size=n, proof=p, root=r)

    assert not fails(check())
    for bad in tampered_lists(proof, byte_at):
        assert fails(check(p=bad)), bad
    for other in [i for i in range(-1, size + 2) if i != index]:
        assert fails(check(i=other)), other
    for leaf in (LEAVES[(index + 1) % MAX], EMPTY_ROOT, LEAVES[index][:31]):
        assert fails(check(leaf=leaf))
    for bad_root in (ref_mth(LEAVES[1 : size + 1]), EMPTY_ROOT, good_root[:31], bytes(32)):
        assert fails(check(r=bad_root))
    # RFC 9162 binds the size through the signed root, so a proof may fit another size of the same
    # shape; any size whose audit path has another length must fail on the proof's shape alone.
    for n in other_sizes(size):
        if n <= index or len(ref_path(index, shape(n))) != len(proof):
            assert fails(check(n=n)), n


@settings(deadline=None)  # many verifications per example; the machine is shared
@given(old_and_new(), st.integers(min_value=0, max_value=31))
def test_every_tampered_consistency_proof_fails(case: tuple[int, int], byte_at: int) -> None:
    old, new = case
    old_root, new_root = ref_mth(LEAVES[:old]), ref_mth(LEAVES[:new])
    proof = ref_proof(old, LEAVES[:new])

    def check(m: int = old, n: int = new, a: bytes = old_root, b: bytes = new_root,
              p: Sequence[bytes] = proof) -> Callable[[], None]:  # fmt: skip
        return lambda: verify_consistency(old_size=m, new_size=n, old_root=a, new_root=b, proof=p)

    assert not fails(check())
    for bad in tampered_lists(proof, byte_at):
        assert fails(check(p=bad)), bad
    stranger = hashlib.sha256(b"another log").digest()
    for a, b in (
        (new_root, old_root),
        (stranger, new_root),
        (old_root, stranger),
        (old_root[:31], new_root),
    ):
        if (a, b) != (old_root, new_root) and (old or a != old_root):  # size 0: any new root
            assert fails(check(a=a, b=b))
    for m in other_sizes(old):
        if m < 0 or m > new or len(ref_proof(m, shape(new))) != len(proof):
            assert fails(check(m=m)), m
    for n in other_sizes(new):
        if n < old or len(ref_proof(old, shape(n))) != len(proof):
            assert fails(check(n=n)), n


def test_trivial_consistency_claims_must_be_true() -> None:
    one, two = ref_mth(LEAVES[:1]), ref_mth(LEAVES[:2])
    verify_consistency(old_size=0, new_size=5, old_root=EMPTY_ROOT, new_root=two, proof=[])
    verify_consistency(old_size=3, new_size=3, old_root=two, new_root=two, proof=[])
    with pytest.raises(ProofError):  # the empty tree has exactly one root
        verify_consistency(old_size=0, new_size=5, old_root=one, new_root=two, proof=[])
    with pytest.raises(ProofError):  # one size, two roots
        verify_consistency(old_size=2, new_size=2, old_root=one, new_root=two, proof=[])
    with pytest.raises(ProofError):  # a proof where none is due
        verify_consistency(old_size=2, new_size=2, old_root=two, new_root=two, proof=[one])
    with pytest.raises(ProofError):  # 2.1.4.2 step 1: an empty proof between different sizes
        verify_consistency(old_size=1, new_size=2, old_root=one, new_root=two, proof=[])
    with pytest.raises(ProofError):  # a tree does not shrink
        verify_consistency(old_size=2, new_size=1, old_root=two, new_root=one, proof=[])


def test_a_proof_that_does_not_check_out_says_not_to_trust_it() -> None:
    one, two = ref_mth(LEAVES[:1]), ref_mth(LEAVES[:2])
    with pytest.raises(ProofError) as consistency:
        verify_consistency(old_size=2, new_size=2, old_root=one, new_root=two, proof=[])
    with pytest.raises(ProofError) as inclusion:
        verify_inclusion(leaf=LEAVES[0], index=0, size=2, proof=[LEAVES[0]], root=two)
    for raised in (consistency, inclusion):
        assert raised.value.hint == TAMPER_HINT and raised.value.diagnostics().endswith(f"({TAMPER_HINT})")


def test_proof_requests_outside_the_tree_are_refused() -> None:
    src = source(10)
    for index, size in ((10, 10), (-1, 10), (0, 0)):
        with pytest.raises(MerkleError):
            inclusion_proof(src, index, size)
    for old, new in ((11, 10), (-1, 10)):
        with pytest.raises(MerkleError):
            consistency_proof(src, old, new)
    with pytest.raises(MerkleError):
        root(src, -1)
    assert src.calls == []


def test_a_store_that_answers_short_is_caught() -> None:
    class Short:
        def nodes(self, keys: Sequence[tuple[int, int]]) -> list[bytes]:
            return [LEAVES[0]] * (len(keys) - 1)

    with pytest.raises(MerkleError, match="answered"):
        root(Short(), 7)


# --- subtree_keys ---


def test_subtree_keys_cut_ranges_into_aligned_subtrees() -> None:
    assert subtree_keys(0, 0) == []
    assert subtree_keys(0, 8) == [(3, 0)]
    assert subtree_keys(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert subtree_keys(4, 7) == [(1, 2), (0, 6)]
    assert subtree_keys(2, 5) == [(1, 1), (0, 4)]
    assert subtree_keys(6, 7) == [(0, 6)]
    for start, end in ((1, 3), (2, 6), (-1, 2), (5, 4)):
        with pytest.raises(MerkleError):
            subtree_keys(start, end)


@given(st.integers(min_value=0, max_value=MAX), st.integers(min_value=0, max_value=9))
def test_subtree_keys_fold_to_the_reference_hash(count: int, shift: int) -> None:
    start = (1 << shift) * (count // (1 << shift))  # a start aligned to 2**shift
    end = min(MAX, start + (1 << shift))
    keys = subtree_keys(start, end)
    hashes = [ref_nodes()[key] for key in keys]
    if keys:
        acc = hashes[-1]
        for h in reversed(hashes[:-1]):
            acc = node_hash(h, acc)
        assert acc == ref_mth(LEAVES[start:end])


# --- Frontier ---


def test_frontier_pushes_exactly_the_reference_nodes() -> None:
    frontier, seen = Frontier(), {}
    for size, leaf in enumerate(LEAVES, start=1):
        trailing_ones = ((size - 1) ^ size).bit_length() - 1
        completed = frontier.push(leaf)
        assert len(completed) == trailing_ones  # O(log n) per push
        for level, index, h in completed:
            assert level >= 1 and (index + 1) << level == size
            assert h == ref_nodes()[(level, index)]
            seen[(level, index)] = h
        assert frontier.size == size
        assert len(frontier.peaks) == size.bit_count()
        assert frontier.root() == ref_mth(LEAVES[:size])
    assert set(seen) == {key for key in ref_nodes() if key[0] >= 1}
    assert len(seen) == MAX - MAX.bit_count()  # one new node per push on average


@given(st.integers(min_value=0, max_value=MAX))
def test_frontier_round_trips_and_keeps_growing(size: int) -> None:
    frontier, _ = frontier_of(LEAVES[:size])
    data = frontier.to_bytes()
    assert len(data) == 32 * size.bit_count()
    restored = Frontier.from_bytes(size, data)
    assert (restored.size, restored.peaks, restored.root()) == (
        size,
        frontier.peaks,
        frontier.root(),
    )
    assert Frontier.from_source(source(size), size).peaks == frontier.peaks
    if size < MAX:
        assert restored.push(LEAVES[size]) == frontier.push(LEAVES[size])
        assert restored.root() == frontier.root() == ref_mth(LEAVES[: size + 1])


@pytest.mark.parametrize(
    ("size", "data"),
    [(5, b"garbage"), (5, bytes(32)), (5, bytes(96)), (0, bytes(32)), (-1, b""), (7, bytes(65))],
)
def test_frontier_rejects_damaged_storage(size: int, data: bytes) -> None:
    with pytest.raises(MerkleError) as raised:
        Frontier.from_bytes(size, data)
    assert isinstance(raised.value, BlastdoorError) and isinstance(raised.value, ValueError)
    assert raised.value.diagnostics()


def test_frontier_refuses_a_body_for_a_leaf_hash() -> None:
    with pytest.raises(MerkleError, match="leaf hash"):
        Frontier().push(b"an entry body, not its hash")


def test_a_million_leaf_proof_is_one_small_fetch() -> None:
    class Synthetic:
        """Any node of a 1,000,000-leaf tree, made up from its key."""

        def __init__(self) -> None:
            self.calls: list[list[tuple[int, int]]] = []

        def nodes(self, keys: Sequence[tuple[int, int]]) -> list[bytes]:
            self.calls.append(list(keys))
            assert all((index + 1) << level <= 1_000_000 for level, index in keys)
            return [hashlib.sha256(b"%d/%d" % key).digest() for key in keys]

    src = Synthetic()
    proof = inclusion_proof(src, 123_457, 1_000_000)
    assert len(src.calls) == 1 and len(src.calls[0]) <= 40
    assert len(proof) == 20  # ceil(log2(1e6)), the depth of this leaf's path
    consistency_proof(src, 654_321, 1_000_000)
    assert len(src.calls) == 2 and len(src.calls[1]) <= 40


def test_a_copied_frontier_grows_apart_from_the_original() -> None:
    frontier = Frontier()
    for leaf in LEAVES[:5]:
        frontier.push(leaf)
    copy = frontier.copy()
    copy.push(LEAVES[5])
    assert (frontier.size, frontier.root()) == (5, ref_mth(LEAVES[:5]))
    assert (copy.size, copy.root()) == (6, ref_mth(LEAVES[:6]))
