"""bench.run keeps each seed's stock model with its training figures, and reuses it only for the
same generated project: one stock training takes about 25 minutes on the full data."""

from pathlib import Path

from bench import run
from bench.training import Training


def test_a_stock_model_is_reused_only_for_the_same_project(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "STOCK_CACHE", tmp_path / "cache")
    trained = tmp_path / "stock.tar.gz"
    trained.write_bytes(b"model one")
    assert run._cached_stock(1, "aaaa") is None
    run._keep_stock(1, "aaaa", Training(trained, 1432.5, 2100.0))
    cached, _ = run._cached_stock(1, "aaaa")
    assert (cached.seconds, cached.peak_rss_mb, cached.model.read_bytes()) == (1432.5, 2100.0, b"model one")
    assert run._cached_stock(1, "bbbb") is None and run._cached_stock(2, "aaaa") is None
    # a new project for the seed replaces the old one; other seeds keep theirs
    run._keep_stock(2, "aaaa", Training(trained, 1500.0, 2000.0))
    trained.write_bytes(b"model two")
    run._keep_stock(1, "bbbb", Training(trained, 1600.0, 2200.0))
    assert run._cached_stock(1, "aaaa") is None
    assert run._cached_stock(1, "bbbb")[0].model.read_bytes() == b"model two"
    assert run._cached_stock(2, "aaaa")[0].seconds == 1500.0
    assert sorted(p.name for p in Path(tmp_path / "cache").iterdir()) == [
        "stock-seed1-bbbb.json",
        "stock-seed1-bbbb.tar.gz",
        "stock-seed2-aaaa.json",
        "stock-seed2-aaaa.tar.gz",
    ]
