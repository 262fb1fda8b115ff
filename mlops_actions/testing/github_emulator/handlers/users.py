"""Users, organizations, teams and the rate limit."""

from __future__ import annotations

from ..api import Call, Reply, not_found, paginate
from ..server import PUBLIC, SIGNED_IN, route
from ..state import RateBucket


def authenticated_user(call: Call) -> Reply:
    return Reply(200, call.render.public_user(call.login))


def user_by_name(call: Call) -> Reply:
    if call.params["username"] not in call.state.users:
        raise not_found()
    return Reply(200, call.render.public_user(call.params["username"]))


def organization(call: Call) -> Reply:
    org = call.state.users.get(call.params["org"])
    if org is None or org.type != "Organization":
        raise not_found()
    return Reply(200, call.render.organization(org.login))


def team(call: Call) -> Reply:
    found = call.state.teams.get((call.params["org"], call.params["team_slug"]))
    if found is None:
        raise not_found()
    return Reply(200, call.render.team(found))


def team_membership(call: Call) -> Reply:
    found = call.state.teams.get((call.params["org"], call.params["team_slug"]))
    login = call.params["username"]
    if found is None or login not in found.members:
        raise not_found()
    url = f"{call.render.base}/orgs/{found.org}/teams/{found.slug}/memberships/{login}"
    return Reply(200, {"url": url, "role": found.members[login], "state": "active"})


def team_members(call: Call) -> Reply:
    found = call.state.teams.get((call.params["org"], call.params["team_slug"]))
    if found is None:
        raise not_found()
    role = call.query.get("role", "all")
    logins = sorted(login for login, has in found.members.items() if role in ("all", has))
    return paginate(call, logins, call.render.user)


def rate_limit(call: Call) -> Reply:
    bucket = call.state.rate.get(call.login, RateBucket()) if call.user else RateBucket(limit=60)
    core = {"limit": bucket.limit, "remaining": bucket.remaining, "reset": bucket.reset, "used": bucket.used,
            "resource": "core"}  # fmt: skip
    search = {"limit": 30, "remaining": 30, "reset": bucket.reset, "used": 0, "resource": "search"}
    return Reply(200, {"resources": {"core": core, "search": search}, "rate": core})


ROUTES = [
    route("GET", "/user", authenticated_user, SIGNED_IN),
    route("GET", "/users/{username}", user_by_name, SIGNED_IN),
    route("GET", "/orgs/{org}", organization, SIGNED_IN),
    route("GET", "/orgs/{org}/teams/{team_slug}", team, SIGNED_IN),
    route("GET", "/orgs/{org}/teams/{team_slug}/members", team_members, SIGNED_IN),
    route("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}", team_membership, SIGNED_IN),
    route("GET", "/rate_limit", rate_limit, PUBLIC),
]
