"""`kontor backup` and `kontor restore` as real processes, each install on its own SQLite
file (tests/test_cli.py's helpers)."""

from tests.test_cli import assert_one_line_error, create_user, query, run_kontor


def test_backup_then_restore_into_a_new_install_and_refuse_a_second_time(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    assert run_kontor(source, "migrate", "--noinput", "-v", "0").returncode == 0
    assert create_user(source, "ann@example.com").returncode == 0
    (source / "media" / "attachments").mkdir(parents=True)
    (source / "media" / "attachments" / "a.bin").write_bytes(b"\x00\xffkontor")
    archive = tmp_path / "backup.zip"

    written = run_kontor(source, "backup", str(archive))
    assert written.returncode == 0, written.stderr
    assert "1 files" in written.stdout and str(archive) in written.stdout

    restored = run_kontor(target, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert "checked against the backup" in restored.stdout
    code = (
        "from kontor.accounts.models import User; "
        "print(list(User.objects.values_list('email', flat=True)))"
    )
    assert query(target, code) == "['ann@example.com']"
    assert (target / "media" / "attachments" / "a.bin").read_bytes() == b"\x00\xffkontor"

    again = run_kontor(target, "restore", str(archive))
    assert_one_line_error(again, "kontor: error:", "is not empty")


def test_restore_of_something_else_is_a_one_line_error(tmp_path):
    other = tmp_path / "notes.zip"
    other.write_bytes(b"not a zip at all")
    assert_one_line_error(
        run_kontor(tmp_path / "var", "restore", str(other)), "not a readable backup"
    )
