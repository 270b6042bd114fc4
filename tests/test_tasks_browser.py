"""Profiles and tasks as a person uses them: add, rename, done, delete, drag to reorder, reload."""
import sqlite3

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def task_texts(page):
    return page.locator("#task-list .task-text").all_inner_texts()


def add_task(page, text):
    page.fill("#task-add input[name=text]", text)
    page.press("#task-add input[name=text]", "Enter")
    expect(page.locator("#task-list .task-text", has_text=text)).to_be_visible()


def test_tasks_add_rename_done_delete_and_reorder_survive_a_reload(page, server):
    page.goto(f"{server.url}/tasks")
    for text in ("Crawl the site", "Export links", "Write report"):
        add_task(page, text)
    assert task_texts(page) == ["Crawl the site", "Export links", "Write report"]

    page.click("text=Write report")
    page.fill("#task-list input[name=text]", "Write the report")
    page.press("#task-list input[name=text]", "Enter")
    expect(page.locator("#task-list .task-text", has_text="Write the report")).to_be_visible()

    page.get_by_label("Done: Crawl the site").check()
    expect(page.locator(".task-text.done")).to_have_text("Crawl the site")

    page.once("dialog", lambda d: d.accept())
    page.get_by_label("Delete: Export links").click()
    expect(page.locator("#task-list .task-text", has_text="Export links")).to_have_count(0)

    add_task(page, "Call the client")
    # Drag the last task above the first one by its handle.
    handles = page.locator("#task-list .handle")
    with page.expect_response("**/tasks/reorder"):
        handles.nth(2).drag_to(handles.nth(0))
    assert task_texts(page)[0] == "Call the client"

    page.reload()
    assert task_texts(page) == ["Call the client", "Crawl the site", "Write the report"]
    expect(page.locator(".task-text.done")).to_have_text("Crawl the site")


def test_profiles_show_the_menu_name_and_filter_tasks(page, server):
    page.goto(f"{server.url}/profiles")
    page.fill("input[name=name]", "Acme Corporation Ltd")
    page.fill("input[name=menu_name]", "Client A")
    page.fill("input[name=address]", "acme.example")
    page.get_by_role("button", name="Add profile").click()
    expect(page.locator("#profile-list .menu-name", has_text="Client A")).to_be_visible()
    assert "Acme Corporation Ltd" not in page.content()

    page.goto(f"{server.url}/tasks")
    add_task(page, "Default profile task")
    # The current profile is chosen in the sidebar, for every screen; the Tasks screen lists its tasks.
    page.get_by_label("Current profile").select_option(label="Client A")
    expect(page.locator(".task-profile")).to_have_text("Client A")
    expect(page.locator("select[name=pid] option:checked")).to_have_text("Client A")
    expect(page.locator("#task-list .task-text")).to_have_count(0)
    add_task(page, "Client A task")
    page.reload()
    assert task_texts(page) == ["Client A task"]

    page.goto(f"{server.url}/profiles")
    page.get_by_label("Active: Client A").uncheck()
    expect(page.locator(".profile.inactive .menu-name")).to_have_text("Client A")
    page.goto(f"{server.url}/tasks")
    assert task_texts(page) == ["Default profile task"]
    with sqlite3.connect(server.data_dir / "pipedeck.db") as db:
        assert db.execute("SELECT count(*) FROM task").fetchone()[0] == 2


def test_rename_is_cancelled_by_escape_or_the_cancel_button(page, server):
    page.goto(f"{server.url}/tasks")
    add_task(page, "Send the audit")
    page.click("text=Send the audit")
    editor = page.locator("#task-list input[name=text]")
    editor.fill("Something else entirely")
    editor.press("Escape")
    expect(page.locator("#task-list .task-text")).to_have_text(["Send the audit"])
    page.click("text=Send the audit")
    page.locator("#task-list input[name=text]").fill("Changed my mind")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#task-list .task-text")).to_have_text(["Send the audit"])
    page.reload()
    assert task_texts(page) == ["Send the audit"]


def test_task_box_takes_no_more_than_the_server_keeps(page, server):
    page.goto(f"{server.url}/tasks")
    box = page.locator("#task-add input[name=text]")
    assert box.get_attribute("maxlength") == "500"
    box.fill("x" * 600)  # typing stops at the limit, as the user would see
    assert len(box.input_value()) == 500
    box.press("Enter")
    expect(page.locator("#task-list .task-text")).to_have_count(1)


def test_profile_edit_saves_validates_and_escape_cancels(page, server):
    page.goto(f"{server.url}/profiles")
    page.get_by_label("Name", exact=True).fill("Globex Corporation")
    page.get_by_label("Menu name").fill("Client G")
    page.get_by_label("Website").fill("not a domain !!")
    page.get_by_role("button", name="Add profile").click()
    expect(page.locator("#profile-add .error")).to_contain_text("is not a website")
    expect(page.get_by_label("Website")).to_have_value("not a domain !!")  # nothing typed is lost
    page.get_by_label("Website").fill("https://globex.example/shop")
    page.get_by_role("button", name="Add profile").click()
    row = page.locator("#profile-list li", has_text="Client G")
    expect(row).to_contain_text("https://globex.example/shop")

    page.get_by_role("button", name="Edit: Client G").click()
    editing = page.locator("#profile-list li.editing")
    editing.get_by_label("Website").fill("globex")
    editing.get_by_role("button", name="Save").click()
    expect(editing.locator(".error")).to_contain_text("is not a website")
    editing.get_by_label("Menu name").fill("Client Globex")
    editing.get_by_label("Website").fill("globex.example")
    editing.get_by_label("Country code").fill("de")
    editing.get_by_label("Country code").press("Enter")
    expect(page.locator("#profile-list .menu-name", has_text="Client Globex")).to_be_visible()
    expect(page.locator("#toasts .toast")).to_contain_text("Saved the profile")

    page.get_by_role("button", name="Edit: Client Globex").click()
    page.locator("#profile-list li.editing").get_by_label("Menu name").fill("Oops")
    page.locator("#profile-list li.editing").get_by_label("Menu name").press("Escape")
    expect(page.locator("#profile-list li.editing")).to_have_count(0)
    with sqlite3.connect(server.data_dir / "pipedeck.db") as db:
        assert db.execute("SELECT menu_name, address, code FROM profile WHERE name = 'Globex Corporation'").fetchone() \
            == ("Client Globex", "globex.example", "DE")
