"""CSRF on every form, rate limits, production refusals."""
import pytest

from app import create_app
from conftest import post_form


def post_routes(app):
    return sorted(
        rule.rule for rule in app.url_map.iter_rules() if "POST" in rule.methods and "<" not in rule.rule
    )


def test_every_post_route_refuses_a_request_without_csrf_token(app, client, auth, demo):
    auth.login("+79000000001")
    routes = post_routes(app)
    assert "/auth/login" in routes and "/language" in routes
    for route in routes:
        response = client.post(route, data={"identifier": "+79000000002", "locale": "en"})
        assert response.status_code == 400, route
        assert "Форма устарела" in response.get_data(as_text=True), route


def test_code_requests_are_limited_per_identifier(client, form):
    for _ in range(5):
        assert form("/auth/signup", {"identifier": "someone@example.org"}).status_code in (200, 303)
    refused = form("/auth/signup", {"identifier": "someone@example.org"})
    assert refused.status_code == 429
    assert "Слишком много попыток" in refused.get_data(as_text=True)
    assert refused.headers.get("Retry-After")
    other = form("/auth/signup", {"identifier": "other@example.org"})
    assert other.status_code == 303


def test_code_requests_are_limited_per_address(client, form):
    for n in range(30):
        form("/auth/signup", {"identifier": f"person{n}@example.org"})
    assert form("/auth/signup", {"identifier": "last@example.org"}).status_code == 429


def test_sign_in_attempts_are_limited_per_identifier(client, form, demo):
    for _ in range(10):
        form("/auth/login", {"identifier": "+79000000003", "password": "wrong-password"})
    refused = form("/auth/login", {"identifier": "+79000000003", "password": "parta-demo"})
    assert refused.status_code == 429
    assert form("/auth/login", {"identifier": "+79000000002", "password": "parta-demo"}).status_code == 303


def test_successful_sign_ins_do_not_count_against_the_limits(client, form, auth, demo):
    """A computer class signs in from one school address, many times an hour."""
    for _ in range(70):
        auth.login("+79000000003")
        auth.logout()
    assert form("/auth/login", {"identifier": "+79000000003", "password": "wrong-password"}).status_code == 200


def test_wrong_passwords_from_one_address_are_limited(client, form, demo):
    for n in range(60):
        form("/auth/login", {"identifier": f"guess{n}@example.org", "password": "wrong-password"})
    assert form("/auth/login", {"identifier": "+79000000002", "password": "parta-demo"}).status_code == 429


def test_code_checks_are_limited_per_address(client, form, smtp_server):
    form("/auth/signup", {"identifier": "a@example.org"})
    statuses = [form("/auth/code", {"code": "12345"}).status_code for _ in range(31)]
    assert statuses[-1] == 429 and statuses[0] == 200


@pytest.mark.parametrize(
    "settings, problem",
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "k", "MAIL_BACKEND": "console", "SMS_BACKEND": "http"}, "MAIL_BACKEND=console"),
        ({"SECRET_KEY": "k", "MAIL_BACKEND": "smtp", "SMS_BACKEND": "console"}, "SMS_BACKEND=console"),
    ],
)
def test_production_refuses_to_start_with_unsafe_settings(tmp_path, settings, problem):
    config = {"PARTA_ENV": "production", "INSTANCE_PATH": str(tmp_path), **settings}
    with pytest.raises(RuntimeError, match=problem):
        create_app(config)


def test_production_starts_with_real_backends(tmp_path):
    app = create_app(
        {
            "PARTA_ENV": "production",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
            "SECRET_KEY": "k",
            "MAIL_BACKEND": "smtp",
            "SMS_BACKEND": "http",
        }
    )
    assert app.config["PARTA_ENV"] == "production"


def test_next_parameter_cannot_send_people_to_another_site(client, demo):
    response = post_form(
        client,
        "/auth/login?next=//evil.example/x",
        {"identifier": "+79000000002", "password": "parta-demo"},
        page="/auth/login",
    )
    assert response.headers["Location"] == "/"


def test_session_cookie_is_http_only_and_same_site(client, auth, demo):
    response = auth.login("+79000000002")
    cookies = response.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session


def test_rate_limits_are_shared_between_processes_through_redis(tmp_path, database_url):
    """Two web processes with RATELIMIT_STORAGE_URI on Redis count the same attempts."""
    import redis

    from blueprints.extensions import limiter

    server = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    server.flushdb()
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": database_url,
        "ASYNC_MODE": "threading",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
    }
    try:
        first = create_app(settings)
        from db import migrate

        migrate.upgrade()
        first_client = first.test_client()
        for _ in range(5):
            post_form(first_client, "/auth/signup", {"identifier": "shared@example.org"})
        second = create_app(settings)  # a second process, as far as the limits can tell
        refused = post_form(second.test_client(), "/auth/signup", {"identifier": "shared@example.org"})
        assert refused.status_code == 429
        assert any(b"LIMITS" in key or b"LIMITER" in key for key in server.keys())
    finally:
        server.flushdb()
        limiter.reset()
