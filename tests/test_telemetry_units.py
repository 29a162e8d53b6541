"""Telemetry's pure parts: the OTel settings config.py reads, and what of a URL or path may be recorded."""

import pytest

from bot.telemetry.scrub import path_template, url_template
from config import ConfigError, Settings


def test_telemetry_is_off_unless_an_endpoint_or_connection_string_is_set():
    assert not Settings.from_mapping({}).telemetry.enabled
    tuning_only = {"OTEL_SERVICE_NAME": "x", "OTEL_METRIC_EXPORT_INTERVAL": "1000"}
    assert not Settings.from_mapping(tuning_only).telemetry.enabled
    assert not Settings.from_mapping({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
                                      "OTEL_SDK_DISABLED": "true"}).telemetry.enabled


def test_otel_settings_are_read_and_secrets_kept_out_of_repr():
    t = Settings.from_mapping({
        "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example/", "OTEL_EXPORTER_OTLP_HEADERS": "api-key=s3cret",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod,service.name=from%20attrs",
        "OTEL_BSP_SCHEDULE_DELAY": "2000", "OTEL_METRIC_EXPORT_INTERVAL": "30000",
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=k-e-y;IngestionEndpoint=https://in.example/",
    }).telemetry
    assert t.enabled and t.otlp_endpoint == "https://otel.example" and t.otlp_headers == {"api-key": "s3cret"}
    assert t.service_name == "from attrs" and t.resource_attributes == {"deployment.environment": "prod"}
    assert (t.traces_export_ms, t.metrics_export_ms) == (2000, 30000)
    assert "s3cret" not in repr(t) and "k-e-y" not in repr(t)
    assert set(t.secrets) >= {"s3cret", t.azure_connection_string}


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "127.0.0.1:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://collector"}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:port"}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
        ({"APPLICATIONINSIGHTS_CONNECTION_STRING": "not one"}, "APPLICATIONINSIGHTS_CONNECTION_STRING"),
        ({"OTEL_RESOURCE_ATTRIBUTES": "novalue"}, "OTEL_RESOURCE_ATTRIBUTES"),
        ({"OTEL_EXPORTER_OTLP_HEADERS": "=x"}, "OTEL_EXPORTER_OTLP_HEADERS"),
        ({"OTEL_METRIC_EXPORT_INTERVAL": "0"}, "OTEL_METRIC_EXPORT_INTERVAL"),
        ({"OTEL_BSP_SCHEDULE_DELAY": "soon"}, "OTEL_BSP_SCHEDULE_DELAY"),
    ],
)
def test_a_bad_otel_setting_is_one_line_naming_it(env, name):
    with pytest.raises(ConfigError) as caught:
        Settings.from_mapping(env)
    assert name in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/me/onlineMeetings/MSo1N2Y5ZGFj%3D%3D/getVirtualAppointmentJoinWebUrl",
         "/me/onlineMeetings/{meeting}/getVirtualAppointmentJoinWebUrl"),
        ("/solutions/bookingBusinesses/shop%40contoso.example/appointments/AAMkAD12?$select=x",
         "/solutions/bookingBusinesses/{mailbox}/appointments/{appointment}"),
        ("/users/alex%40example.com/calendarView", "/users/{user}/calendarView"),
        ("/v3/conversations/a%3A1xYz/activities/1234", "/v3/conversations/{conversation}/activities/{activity}"),
        ("/api/usertoken/GetToken", "/api/usertoken/GetToken"),
        ("/alex@example.com", "/{id}"),
        ("/0123456789", "/{id}"),
    ],
)
def test_paths_keep_the_apis_words_and_replace_ids_by_their_kind(path, template):
    assert path_template(path) == template


def test_urls_lose_user_info_query_and_fragment():
    url = "https://u:pw@graph.example:8443/v1.0/users/bob%40x.example/onlineMeetings?$filter=JoinWebUrl%20eq%20'x'#f"
    assert url_template(url) == "https://graph.example:8443/v1.0/users/{user}/onlineMeetings"


def test_path_templating_is_linear_and_bounded():
    from tests.linear import assert_growth_is_linear

    long = "/" + "/".join(["users", "x" * 1_000] * 1_000)  # 1 MB of path
    assert len(path_template(long)) < 400
    assert_growth_is_linear(path_template, lambda n: "/" + "/".join(["users", "%40x" * (n // 64)] * 16))
    assert_growth_is_linear(path_template, lambda n: "/users" * (n // 6))
