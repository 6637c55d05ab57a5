"""PlotsLogger: one non-empty image per source, of the requested size and format."""

import matplotlib.image
import numpy as np
import pytest

from agentax.loggers import PlotsLogger
from agentax.loggers.plots_logger import _moving_average
from tests.loggers.helpers import make_rl, play_many, play_one


def test_png_per_source_of_the_requested_size(tmp_path):
    params = {"plots_dir": tmp_path, "plots_ext": "png", "plots_size": (5, 3), "plots_dpi": 80}
    with make_rl(PlotsLogger, params) as rl:
        play_one(rl, 40)
        rl.log("loss", 1.0)
        rl.log("loss", 0.5)
        logger = rl._logs.loggers[0]
    names = sorted(path.name.split("-")[2] for path in logger.files)
    assert names == ["Q", "action", "cumulative", "loss", "reward"]
    for path in logger.files:
        image = matplotlib.image.imread(path)
        assert image.shape[:2] == (3 * 80, 5 * 80)
        assert np.ptp(image[..., :3]) > 0.5  # not a blank canvas: dark lines on white


@pytest.mark.parametrize("ext, magic", [("pdf", b"%PDF"), ("svg", b"<?xml")])
def test_vector_formats(tmp_path, ext, magic):
    with make_rl(
        PlotsLogger,
        {"plots_dir": tmp_path, "plots_ext": ext, "plots_size": (4, 2)},
        sources="action",
    ) as rl:
        play_many(rl, n_instances=20, n_steps=5)  # more than 10 instances: the mean is drawn
    (path,) = rl._logs.loggers[0].files
    content = path.read_bytes()
    assert content.startswith(magic) and len(content) > 1000
    if ext == "svg":  # 4 x 2 inches at 72 points per inch
        assert b'width="288pt" height="144pt"' in content
    else:
        assert b"/MediaBox [ 0 0 288 144 ]" in content


def test_smoothing_is_the_exponential_moving_average():
    # w = 0.5: 0, 0.5 * 0 + 0.5 * 2 = 1, 0.5 * 1 + 0.5 * 4 = 2.5
    np.testing.assert_allclose(_moving_average(np.array([0.0, 2.0, 4.0]), 0.5), [0.0, 1.0, 2.5])
    np.testing.assert_allclose(_moving_average(np.array([3.0, 1.0]), 0.0), [3.0, 1.0])


@pytest.mark.parametrize(
    "params, name",
    [
        ({"plots_ext": "jpg"}, "plots_ext"),
        ({"plots_smoothing": 1.0}, "plots_smoothing"),
        ({"plots_size": (0, 2)}, "plots_size"),
        ({"plots_dpi": 0}, "plots_dpi"),
    ],
)
def test_bad_parameters(params, name):
    with pytest.raises(ValueError, match=name):
        PlotsLogger(**params)
