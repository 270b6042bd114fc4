"""Profiles (clients): the menu name is what the screen shows, so one client never sees another's real name."""
from fasthtml.common import H1, Article, Button, Div, Form, Input, Li, P, Small, Span, Ul
from fasthtml.pico import Grid

from ..context import MenuEntry
from ..db import Profile
from ..engine.cards import error_note
from ..layout import page

MAX = 200


def clean_profile(form: dict) -> dict:
    """The profile's fields from a form, or ValueError with what is wrong."""
    name = (form.get("name") or "").strip()
    if not name:
        raise ValueError("A profile needs a name.")
    values = {"name": name, "menu_name": (form.get("menu_name") or "").strip() or name,
              "address": (form.get("address") or "").strip(), "code": (form.get("code") or "").strip().upper()}
    too_long = [k for k, v in values.items() if len(v) > MAX]
    if too_long:
        raise ValueError(f"Keep {', '.join(too_long)} under {MAX} characters.")
    return values


def register(ctx, rt):
    profiles = ctx.db.create(Profile, pk="id")
    if not profiles():
        profiles.insert(Profile(id=None, name="Default", menu_name="Default", address="", code="", active=1, priority=0))
    ctx.menu.append(MenuEntry("/profiles", "Profiles", "Apps", 20, "Clients and their websites."))

    def row(p: Profile):
        return Li(
            Input(type="checkbox", role="switch", checked=bool(p.active), title="Active",
                  hx_post=f"/profiles/{p.id}/toggle", hx_target=f"#profile-{p.id}", hx_swap="outerHTML",
                  aria_label=f"Active: {p.menu_name}"),
            Span(p.menu_name, cls="menu-name"), Small(p.address, cls="muted") if p.address else None,
            Small(p.code, cls="muted") if p.code else None,
            Button("Delete", cls="outline secondary small", hx_delete=f"/profiles/{p.id}",
                   hx_target=f"#profile-{p.id}", hx_swap="outerHTML",
                   hx_confirm=f"Delete the profile “{p.menu_name}” and its tasks?"),
            id=f"profile-{p.id}", cls="profile" + ("" if p.active else " inactive"))

    def add_form(error=None, values=None):
        v = values or {}
        return Form(
            Grid(Input(name="name", placeholder="Name (kept private)", value=v.get("name", ""), required=True),
                 Input(name="menu_name", placeholder="Menu name (shown on screen)", value=v.get("menu_name", "")),
                 Input(name="address", placeholder="Website domain", value=v.get("address", "")),
                 Input(name="code", placeholder="Country code", value=v.get("code", ""), maxlength=MAX)),
            error_note(error), Button("Add profile"),
            hx_post="/profiles", hx_target="#profile-add", hx_swap="outerHTML", id="profile-add")

    @rt("/profiles", methods=["get"])
    def index():
        items = profiles(order_by="priority, id")
        return page(ctx, "Profiles", H1("Profiles"),
                    P("Only the menu name is ever shown on screen.", cls="lead"),
                    Article(add_form()), Ul(*map(row, items), id="profile-list", cls="plain-list"),
                    current="/profiles")

    @rt("/profiles", methods=["post"])
    def add(name: str = "", menu_name: str = "", address: str = "", code: str = ""):
        form = dict(name=name, menu_name=menu_name, address=address, code=code)
        try:
            values = clean_profile(form)
        except ValueError as e:
            return add_form(str(e), form)
        last = max((p.priority for p in profiles()), default=-1)
        p = profiles.insert(Profile(id=None, active=1, priority=last + 1, **values))
        return add_form(), Div(row(p), hx_swap_oob="beforeend:#profile-list")

    @rt("/profiles/{pid}/toggle", methods=["post"])
    def toggle(pid: int):
        p = profiles[pid]
        return row(profiles.update(id=pid, active=0 if p.active else 1))

    @rt("/profiles/{pid}", methods=["delete"])
    def delete(pid: int):
        ctx.db.execute("DELETE FROM task WHERE profile_id = ?", [pid])
        profiles.delete(pid)
        return ""
