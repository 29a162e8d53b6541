"""Settings: the names of DESIGN.md section 2, defaults, and one-line errors naming the setting."""

import pytest

from config import ConfigError, Settings

TENANT = "00000000-0000-0000-0000-0000000000aa"
APP = {"MicrosoftAppId": "00000000-0000-0000-0000-000000000001", "MicrosoftAppPassword": "pw",
       "MicrosoftAppTenantId": TENANT}


def test_defaults_are_local_mode():
    s = Settings.from_mapping({})
    assert s.local_mode and s.listen_host == "127.0.0.1"
    assert (s.app_type, s.connection_name, s.bot_storage, s.port, s.log_level) == (
        "SingleTenant", "GraphConnection", "memory", 3978, "INFO"
    )
    assert s.graph_endpoint == "https://graph.microsoft.com"


def test_local_mode_ignores_host_but_azure_mode_uses_it():
    assert Settings.from_mapping({"HOST": "0.0.0.0"}).listen_host == "127.0.0.1"
    assert Settings.from_mapping({**APP, "HOST": "0.0.0.0"}).listen_host == "0.0.0.0"


def test_sdk_config_only_carries_the_passthrough_settings_that_are_set():
    s = Settings.from_mapping({**APP, "OAuthUrl": "http://127.0.0.1:9/", "ValidateAuthority": "false", "CallerId": ""})
    cfg = s.sdk_config()
    assert APP["MicrosoftAppId"] == cfg.APP_ID and cfg.APP_PASSWORD == "pw"
    assert cfg.OAUTH_URL == "http://127.0.0.1:9/"
    assert cfg.VALIDATE_AUTHORITY is False
    for absent in ("CALLER_ID", "CHANNEL_SERVICE", "TO_CHANNEL_FROM_BOT_LOGIN_URL", "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER"):
        assert not hasattr(cfg, absent), absent


def test_password_never_in_repr():
    assert "pw" not in repr(Settings.from_mapping(APP))


def test_allowed_tenants_parsed():
    s = Settings.from_mapping({"AllowedTenantIds": " A , b,, "})
    assert s.allowed_tenant_ids == ("a", "b")


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({**APP, "MicrosoftAppType": "SingleTenant", "MicrosoftAppTenantId": ""}, "MicrosoftAppTenantId"),
        ({**APP, "MicrosoftAppType": "Weird"}, "MicrosoftAppType"),
        ({"MicrosoftAppId": APP["MicrosoftAppId"], "MicrosoftAppTenantId": TENANT}, "MicrosoftAppPassword"),
        ({"MicrosoftAppPassword": "pw"}, "MicrosoftAppId"),
        ({"MicrosoftAppTenantId": "t"}, "MicrosoftAppId"),
        ({"BotStorage": "blob"}, "BlobConnectionString"),
        ({"BotStorage": "blob", "BlobConnectionString": "x"}, "BlobContainer"),
        ({"BotStorage": "cosmos"}, "BotStorage"),
        ({"PORT": "http"}, "PORT"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"GraphEndpoint": "http://graph.example"}, "GraphEndpoint"),
        ({"GraphEndpoint": "http://localhost.evil.example"}, "GraphEndpoint"),
        ({"GraphEndpoint": "http://127.0.0.1.evil.example/v1.0"}, "GraphEndpoint"),
        ({"GraphEndpoint": "http://127.0.0.1@evil.example"}, "GraphEndpoint"),
        ({"GraphEndpoint": "http://[::ffff:10.0.0.1]"}, "GraphEndpoint"),
        ({"GraphEndpoint": "ftp://graph.example"}, "GraphEndpoint"),
        ({"ValidateAuthority": "maybe"}, "ValidateAuthority"),
    ],
)
def test_bad_configuration_fails_with_one_line_naming_the_setting(env, names):
    with pytest.raises(ConfigError) as err:
        Settings.from_mapping(env)
    message = str(err.value)
    assert names in message and "\n" not in message


@pytest.mark.parametrize(
    "endpoint",
    ["https://graph.microsoft.com", "http://127.0.0.1:8081", "http://127.9.0.1", "http://[::1]:8081",
     "http://localhost:8081/v1.0"],
)
def test_graph_endpoint_is_https_or_loopback(endpoint):
    assert Settings.from_mapping({"GraphEndpoint": endpoint}).graph_endpoint == endpoint


def test_dotenv_file_is_read_and_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("ConnectionName=FromFile\nPORT=4000\n")
    s = Settings.from_env({"PORT": "5000"}, dotenv_path=env_file)
    assert (s.connection_name, s.port) == ("FromFile", 5000)


def test_app_type_defaults_to_single_tenant_and_needs_the_tenant():
    """Azure no longer creates multi-tenant bot registrations: an app id alone is a SingleTenant bot without its
    tenant, which must stop the start with one line naming MicrosoftAppTenantId."""
    assert Settings.from_mapping(APP).app_type == "SingleTenant"
    assert Settings.from_mapping(APP).sdk_config().APP_TENANTID == TENANT
    with pytest.raises(ConfigError) as error:
        Settings.from_mapping({"MicrosoftAppId": APP["MicrosoftAppId"], "MicrosoftAppPassword": "pw"})
    message = str(error.value)
    assert "\n" not in message and message.startswith("MicrosoftAppTenantId") and "SingleTenant" in message


def test_multi_tenant_still_works_when_set_explicitly():
    """Registrations made before the deprecation keep working: MultiTenant needs no tenant id."""
    settings = Settings.from_mapping(
        {"MicrosoftAppId": APP["MicrosoftAppId"], "MicrosoftAppPassword": "pw", "MicrosoftAppType": "multitenant"}
    )
    assert settings.app_type == "MultiTenant" and settings.sdk_config().APP_TYPE == "MultiTenant"


def test_local_mode_hands_the_sdk_its_unauthenticated_factory():
    """The SDK's SingleTenant factory refuses an empty app id; local mode must not reach it."""
    settings = Settings.from_mapping({})
    assert settings.local_mode and settings.sdk_config().APP_TYPE == "MultiTenant"
