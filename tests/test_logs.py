"""The log file: data/pipedeck.log, rotated, and named by the error card a failed request shows."""
from loguru import logger
from starlette.testclient import TestClient

from server import logs
from server.app import create_app
from server.config import Config


def test_failed_request_is_logged_to_the_data_folder_and_the_card_names_the_file(tmp_path):
    cfg = Config(data_dir=tmp_path / "data", downloads_dir=tmp_path / "downloads", auth=False)
    app = create_app(cfg)

    @app.route("/boom")
    def boom():
        raise RuntimeError("the disk gremlin")

    try:
        with TestClient(app, base_url=cfg.base_url, raise_server_exceptions=False) as client:
            card = client.get("/boom", headers={"HX-Request": "true"})
    finally:
        logs.stop_logging_to_file(cfg.data_dir)  # flushes loguru's writer thread
    assert card.status_code == 500
    log = cfg.data_dir / "pipedeck.log"
    assert str(log) in card.text
    text = log.read_text()
    assert "error serving /boom" in text and "RuntimeError: the disk gremlin" in text


def test_log_file_rotates_and_keeps_three(tmp_path):
    logs.log_to_file(tmp_path)
    try:
        for i in range(5000):  # about 1.5 MB: past one rotation
            logger.info("filler line {} {}", i, "x" * 250)
    finally:
        logs.stop_logging_to_file(tmp_path)
    files = sorted(p.name for p in tmp_path.glob("pipedeck*.log"))
    assert "pipedeck.log" in files and 2 <= len(files) <= 4, files
    assert all(p.stat().st_size <= 1_100_000 for p in tmp_path.glob("pipedeck*.log"))
