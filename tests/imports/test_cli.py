"""``kontor import``: progress lines, dry run, saved mappings, the error rows' file."""

import csv
import json

import pytest

from kontor import cli
from kontor.contacts.models import Person

from . import files


@pytest.fixture
def russian(tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes(files.russian_csv())
    return path


def kontor_import(*args):
    return cli.main(["import", *map(str, args)])


def test_dry_run_then_import_with_the_saved_mapping(org, russian, tmp_path, capsys):
    saved = tmp_path / "mapping.json"
    args = (russian, "--type", "people", "--user", org.admin.email)
    assert kontor_import(*args, "--dry-run", "--save-mapping", saved) == 0
    assert capsys.readouterr().out.splitlines() == [
        "3 rows read: 3 new, 0 updated, 0 skipped, 0 with errors",
        "Dry run: nothing was written.",
    ]
    assert not Person.objects.exists()
    assert json.loads(saved.read_text())["Эл. почта"] == "emails"
    # The template, edited: the notes go nowhere.
    template = json.loads(saved.read_text())
    template["Примечание"] = ""
    saved.write_text(json.dumps(template))
    assert kontor_import(*args, "--mapping", saved, "--match", "email") == 0
    assert Person.objects.count() == 3 and not Person.objects.exclude(notes="").exists()
    assert kontor_import(*args, "--match", "email") == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "3 rows read: 0 new, 0 updated, 3 skipped, 0 with errors"
    )


def test_error_rows_file_and_exit_status(org, tmp_path, capsys):
    path, errors = tmp_path / "people.csv", tmp_path / "errors.csv"
    path.write_bytes(files.csv_bytes(["Имя", "Эл. почта"], [["A", "bad"], ["B", "b@example.com"]]))
    status = kontor_import(path, "--type", "person", "--user", org.admin.email, "--errors", errors)
    assert status == 1
    assert "line 2 [Эл. почта]: “bad” is not a valid email." in capsys.readouterr().out
    with errors.open(newline="", encoding="utf-8-sig") as out:
        assert list(csv.reader(out)) == [
            ["Имя", "Эл. почта", "Error"],
            ["A", "bad", "Эл. почта: “bad” is not a valid email."],
        ]


def test_unreadable_file_and_unknown_type_are_one_line_errors(org, tmp_path, capsys):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\x00\x01garbage")
    assert kontor_import(path, "--type", "people", "--user", org.admin.email) == 2
    assert "not a spreadsheet" in capsys.readouterr().err
    assert kontor_import(path, "--type", "peeple", "--user", org.admin.email) == 2
    assert "Unknown record type: peeple" in capsys.readouterr().err
