import math

import numpy as np
import pytest

from spa2v.camera import Position, azimuth_to_x, project_box, x_to_azimuth


def test_design_worked_example_car_side_on():
    box = project_box(Position(forward=10.0, left=5.774), width_m=4.5, height_m=1.5)
    assert box is not None
    assert np.allclose(box, [0.099, 0.500, 0.324, 0.620], atol=1e-3)


def test_positive_azimuth_is_left_of_centre():
    assert azimuth_to_x(30.0) < 0.5 < azimuth_to_x(-30.0)
    assert azimuth_to_x(0.0) == pytest.approx(0.5)


@pytest.mark.parametrize("az", [-80.0, -45.0, -10.0, 0.0, 25.0, 60.0])
def test_x_to_azimuth_inverts_azimuth_to_x(az):
    assert x_to_azimuth(azimuth_to_x(az)) == pytest.approx(az)


def test_sources_behind_or_outside_are_absent():
    assert project_box(Position.from_polar(120.0, 5.0), 1.0, 1.0) is None
    assert project_box(Position.from_polar(89.9, 5.0), 0.1, 0.1) is None


def test_polar_position_round_trip():
    p = Position.from_polar(-35.0, 7.0)
    assert p.azimuth_deg == pytest.approx(-35.0)
    assert p.horizontal_distance_m == pytest.approx(7.0)
    assert p.left < 0 and math.isclose(p.forward, 7.0 * math.cos(math.radians(35)))
