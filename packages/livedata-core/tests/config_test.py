import pytest

from ess.livedata.config import ConfigError, DeploymentEnv, deployment_env, load_config


def test_dev_is_the_default(monkeypatch):
    monkeypatch.delenv("LIVEDATA_ENV", raising=False)
    assert deployment_env() is DeploymentEnv.DEV


@pytest.mark.parametrize("env", list(DeploymentEnv))
def test_every_env_has_every_default_file(env):
    for name in ("kafka_upstream", "kafka_downstream", "services"):
        assert load_config(name, env)


def test_staging_is_selected_by_environment(monkeypatch):
    monkeypatch.setenv("LIVEDATA_ENV", "staging")
    assert load_config("kafka_upstream")["bootstrap_servers"].startswith(
        "kafka-staging"
    )


def test_bad_env_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("LIVEDATA_ENV", "prod")
    with pytest.raises(ConfigError, match="LIVEDATA_ENV must be one of"):
        deployment_env()


def test_missing_file_is_a_config_error():
    with pytest.raises(ConfigError, match="no configuration 'nosuch'"):
        load_config("nosuch", DeploymentEnv.DEV)
