"""Training on Ray is asked for by one setting, checked before any cluster is touched."""

from __future__ import annotations

import pytest

from lab.train.ray_train import RayTrainOptions, ray_workers_from_env


def test_the_worker_count_comes_from_one_setting_and_a_bad_one_names_it():
    assert ray_workers_from_env({}) == 0
    assert ray_workers_from_env({"ARBORIST_RAY_TRAIN_WORKERS": " 4 "}) == 4
    for bad in ("two", "-1", "1.5"):
        with pytest.raises(ValueError, match="ARBORIST_RAY_TRAIN_WORKERS"):
            ray_workers_from_env({"ARBORIST_RAY_TRAIN_WORKERS": bad})


def test_impossible_ray_training_options_are_refused():
    for bad in (RayTrainOptions(num_workers=0), RayTrainOptions(max_failures=-1), RayTrainOptions(step_delay_s=-1)):
        with pytest.raises(ValueError, match="ray training"):
            bad.check()
    RayTrainOptions(num_workers=2).check()
