import pytest
import torch

import course_lib
from course_lib import cache_dir, get_device, seed_everything, show_source


def test_seed_everything_repeats_draws_and_returns_a_seeded_generator():
    g1 = seed_everything(3)
    a, ga = torch.randn(4), torch.rand(2, generator=g1)
    g2 = seed_everything(3)
    b, gb = torch.randn(4), torch.rand(2, generator=g2)
    assert torch.equal(a, b) and torch.equal(ga, gb)
    seed_everything(4)
    assert not torch.equal(a, torch.randn(4))


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "0", True])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises((TypeError, ValueError), match="seed"):
        seed_everything(bad)


def test_get_device_auto_picks_cuda_only_when_present():
    assert get_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert get_device("CPU") == torch.device("cpu")
    assert get_device(torch.device("cpu")) == torch.device("cpu")


def test_get_device_errors_name_the_problem():
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        get_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            get_device("cuda")
    with pytest.raises(TypeError):
        get_device(3)


def test_show_source_prints_outside_a_notebook(capsys):
    show_source(get_device)
    assert "def get_device" in capsys.readouterr().out
    with pytest.raises(TypeError, match="cannot show the source"):
        show_source(3)


def test_cache_dir_follows_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c" and (tmp_path / "c").is_dir()


def test_version_is_a_string():
    assert isinstance(course_lib.__version__, str) and course_lib.__version__.count(".") == 2
