"""The public surface is deliberate: __all__ lists exactly the public names, sorted."""

import aiready


def test_all_lists_every_public_name() -> None:
    public = {n for n in dir(aiready) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(aiready, n)).__name__ == "module"}
    assert set(aiready.__all__) == public - modules
    assert aiready.__all__ == sorted(aiready.__all__)


def test_errors_share_one_root() -> None:
    for name in aiready.__all__:
        obj = getattr(aiready, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, aiready.AireadyError)
