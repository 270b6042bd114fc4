"""Profiles (clients): the menu name is what the screen shows, so one client never sees another's real name."""
import re
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from fasthtml.common import H1, APIRouter, Article, Button, Div, Form, Input, Label, Li, P, Small, Span, Ul
from fasthtml.pico import Grid

from ..context import MenuEntry
from ..current_profile import current_profile
from ..db import Profile
from ..engine.cards import error_note
from ..layout import icon, page, toast

ORDER = 20
MAX = 200
LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
TLD = re.compile(r"^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


@dataclass
class ProfileForm:
    """What the add and edit forms send (FastHTML fills it from the form's fields)."""
    name: str = ""
    menu_name: str = ""
    address: str = ""
    code: str = ""


def clean_website(raw: str) -> str:
    """A domain (`acme.example`) or a web address (`https://acme.example/shop`); ValueError otherwise."""
    value = raw.strip()
    if not value:
        return ""
    url = value if "://" in value else "http://" + value
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        host, parts = "", None
    labels = host.split(".")
    if (parts is None or parts.scheme not in ("http", "https") or " " in value or len(labels) < 2
            or not all(LABEL.match(part) for part in labels) or not TLD.match(labels[-1])):
        raise ValueError(f"“{value[:60]}” is not a website: type a domain such as acme.example, or its address "
                         "such as https://acme.example/.")
    return value


def clean_profile(form: dict) -> dict:
    """The profile's fields from a form, or ValueError with what is wrong."""
    name = (form.get("name") or "").strip()
    if not name:
        raise ValueError("A profile needs a name.")
    values = {"name": name, "menu_name": (form.get("menu_name") or "").strip() or name,
              "address": (form.get("address") or "").strip(), "code": (form.get("code") or "").strip().upper()}
    too_long = [k.replace("_", " ") for k, v in values.items() if len(v) > MAX]
    if too_long:
        raise ValueError(f"Keep the {', '.join(too_long)} under {MAX} characters.")
    values["address"] = clean_website(values["address"])
    if values["code"] and not re.fullmatch(r"[A-Z]{2}", values["code"]):
        raise ValueError("A country code is two letters, such as US, GB or FR.")
    return values


def fields(v: dict, prefix: str):
    """The four labelled fields, shared by the add and the edit forms."""
    def field(name, label, hint, **kw):
        fid = f"{prefix}-{name}"
        return Div(Label(label, fr=fid),
                   Input(name=name, id=fid, value=v.get(name, ""), maxlength=MAX, aria_describedby=f"{fid}-hint", **kw),
                   Small(hint, id=f"{fid}-hint", cls="muted hint"))
    return Grid(field("name", "Name", "Kept private, never on screen.", required=True),
                field("menu_name", "Menu name", "What the screen shows (the name if empty)."),
                field("address", "Website", "A domain or address, e.g. acme.example.", inputmode="url"),
                field("code", "Country code", "Two letters, e.g. US.", size=4),
                cls="profile-fields")


def row(p: Profile, current: Profile | None):
    return Li(
        Input(type="checkbox", role="switch", checked=bool(p.active), title="Active",
              hx_post=f"/profiles/{p.id}/toggle", hx_target=f"#profile-{p.id}", hx_swap="outerHTML",
              aria_label=f"Active: {p.menu_name}"),
        Span(p.menu_name, cls="menu-name"), Small("current", cls="badge") if current and current.id == p.id else None,
        Small(p.address, cls="muted") if p.address else None, Small(p.code, cls="muted") if p.code else None,
        Button(icon("pencil"), "Edit", cls="outline secondary small", hx_get=f"/profiles/{p.id}/edit",
               hx_target=f"#profile-{p.id}", hx_swap="outerHTML", aria_label=f"Edit: {p.menu_name}"),
        Button(icon("trash"), "Delete", cls="outline secondary small", hx_delete=f"/profiles/{p.id}",
               hx_target=f"#profile-{p.id}", hx_swap="outerHTML", aria_label=f"Delete: {p.menu_name}",
               hx_confirm=f"Delete the profile “{p.menu_name}” and its tasks?"),
        id=f"profile-{p.id}", cls="profile" + ("" if p.active else " inactive"))


def add_form(error=None, values=None):
    return Form(fields(values or {}, "profile-new"), error_note(error), Button("Add profile"),
                hx_post="/profiles", hx_target="#profile-add", hx_swap="outerHTML", id="profile-add")


def edit_form(pid: int, values: dict, error=None):
    # Escape presses the Cancel button (static/app.js: any form's [data-cancel]).
    return Li(Form(fields(values, f"profile-{pid}"), error_note(error),
                   Div(Button("Save"), Button("Cancel", type="button", cls="secondary", data_cancel=True,
                                              hx_get=f"/profiles/{pid}", hx_target=f"#profile-{pid}",
                                              hx_swap="outerHTML"), cls="actions"),
                   hx_put=f"/profiles/{pid}", hx_target=f"#profile-{pid}", hx_swap="outerHTML"),
              id=f"profile-{pid}", cls="profile editing")


def profile_table(db):
    """The profiles, with one to start from on a fresh database."""
    profiles = db.create(Profile, pk="id")
    if not profiles():
        profiles.insert(Profile(id=None, name="Default", menu_name="Default", address="", code="", active=1, priority=0))
    return profiles


def register(ctx, rt):
    profiles = profile_table(ctx.db)
    ctx.menu.append(MenuEntry("/profiles", "Profiles", "Settings", 20, "Clients and their websites."))
    ar = APIRouter()

    @ar("/profiles", methods=["get"])
    def index():
        items, current = profiles(order_by="priority, id"), current_profile(ctx.db)
        return page(ctx, "Profiles", H1("Profiles"),
                    P("Only the menu name is ever shown on screen. Choose the current profile in the sidebar.",
                      cls="lead"),
                    Article(add_form()), Ul(*[row(p, current) for p in items], id="profile-list", cls="plain-list"),
                    current="/profiles")

    @ar("/profiles", methods=["post"])
    def add(typed: ProfileForm):
        form = asdict(typed)
        try:
            values = clean_profile(form)
        except ValueError as e:
            return add_form(str(e), form)
        last = max((p.priority for p in profiles()), default=-1)
        p = profiles.insert(Profile(id=None, active=1, priority=last + 1, **values))
        return add_form(), Div(row(p, current_profile(ctx.db)), hx_swap_oob="beforeend:#profile-list")

    @ar("/profiles/{pid}", methods=["get"])
    def show(pid: int):
        return row(profiles[pid], current_profile(ctx.db))

    @ar("/profiles/{pid}/edit", methods=["get"])
    def edit(pid: int):
        p = profiles[pid]
        return edit_form(pid, {k: getattr(p, k) for k in asdict(ProfileForm())})

    @ar("/profiles/{pid}", methods=["put"])
    def save(pid: int, typed: ProfileForm):
        form = asdict(typed)
        profiles[pid]  # a profile deleted meanwhile is "not found", not silently recreated
        try:
            values = clean_profile(form)
        except ValueError as e:
            return edit_form(pid, form, str(e))
        p = profiles.update(id=pid, **values)
        return row(p, current_profile(ctx.db)), toast(f"Saved the profile “{p.menu_name}”.")

    @ar("/profiles/{pid}/toggle", methods=["post"])
    def toggle(pid: int):
        p = profiles[pid]
        return row(profiles.update(id=pid, active=0 if p.active else 1), current_profile(ctx.db))

    @ar("/profiles/{pid}", methods=["delete"])
    def delete(pid: int):
        ctx.db.execute("DELETE FROM task WHERE profile_id = ?", [pid])
        profiles.delete(pid)
        return ""

    return ar
