"""The demo's sign-in: one account per role on a real OpenID provider on loopback (the PyPI package
oidc-provider-mock), and the [auth] settings Streamlit's st.login needs to use it.

`python -m demo.signin secrets --app-url http://127.0.0.1:8501 --provider-url http://127.0.0.1:8503 --out F`
writes the settings; `python -m demo.signin provider --port 8503` serves the provider with the demo accounts.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

CLIENT_ID = "cityops-demo"


@dataclass(frozen=True)
class DemoAccount:
    """A demo user: the subject to pick on the provider's page, and the claims its ID token carries."""

    subject: str
    name: str
    roles: tuple[str, ...]
    home_code: str

    def claims(self, roles_claim: str = "cityops_roles", area_claim: str = "cityops_area") -> dict[str, object]:
        return {"name": self.name, "email": f"{self.subject}@demo.cityops", "email_verified": True,
                roles_claim: list(self.roles), area_claim: self.home_code}


def demo_accounts(city_code: str = "330200") -> tuple[DemoAccount, ...]:
    """One city-wide account per role, and a duty officer of Yinzhou 鄞州区 (330212)."""
    return (
        DemoAccount("leader", "领导 Leader", ("leader",), city_code),
        DemoAccount("duty", "值班员 Duty officer", ("duty_officer",), city_code),
        DemoAccount("planner", "规划员 Planner", ("planner",), city_code),
        DemoAccount("data", "数据员 Data officer", ("data_officer",), city_code),
        DemoAccount("department", "部门用户 Department user", ("department_user",), city_code),
        DemoAccount("admin", "管理员 Admin", ("admin",), city_code),
        DemoAccount("duty.yinzhou", "鄞州区值班员 Yinzhou duty officer", ("duty_officer",), "330212"),
    )


def auth_secrets(app_url: str, provider_url: str, *, cookie_secret: str | None = None,
                 client_secret: str | None = None) -> str:
    """The [auth] section of a Streamlit secrets file for the demo provider (TOML)."""
    values = {
        "redirect_uri": f"{app_url.rstrip('/')}/oauth2callback",
        "cookie_secret": cookie_secret or secrets.token_urlsafe(32),
        "client_id": CLIENT_ID,
        "client_secret": client_secret or secrets.token_urlsafe(24),
        "server_metadata_url": f"{provider_url.rstrip('/')}/.well-known/openid-configuration",
    }
    # json.dumps of a str is a valid TOML basic string
    return "[auth]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())


def provider_command(port: int, city_code: str = "330200") -> list[str]:
    """The command that serves the demo provider on 127.0.0.1:port with the demo accounts."""
    command = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
    for account in demo_accounts(city_code):
        command += ["--user-claims", json.dumps({"sub": account.subject, **account.claims()}, ensure_ascii=False)]
    return command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.signin", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    written = sub.add_parser("secrets", help="write the [auth] settings for the demo provider")
    written.add_argument("--app-url", required=True)
    written.add_argument("--provider-url", required=True)
    written.add_argument("--out", required=True, type=Path)
    served = sub.add_parser("provider", help="serve the demo provider (blocks)")
    served.add_argument("--port", type=int, default=8503)
    served.add_argument("--city-code", default="330200")
    accounts = sub.add_parser("accounts", help="print the demo accounts")
    accounts.add_argument("--city-code", default="330200")
    args = parser.parse_args(argv)
    if args.command == "secrets":
        args.out.write_text(auth_secrets(args.app_url, args.provider_url), encoding="utf-8")
        args.out.chmod(0o600)
        return 0
    if args.command == "accounts":
        for account in demo_accounts(args.city_code):
            print(f"  {account.subject:<14} {', '.join(account.roles):<16} {account.home_code}  {account.name}")
        return 0
    import os

    os.execv(sys.executable, provider_command(args.port, args.city_code))  # noqa: S606 - our own interpreter
    return 0


if __name__ == "__main__":
    sys.exit(main())
