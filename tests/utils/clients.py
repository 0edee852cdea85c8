"""Talking to Kontor as a user does: the JSON API with a token, the browser pages, and
reading what came back (search hits, exported files)."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
from django.test import Client

from kontor.accounts import services as accounts
from kontor.core.access import SYSTEM


class Api:
    """The Django test client speaking JSON with one user's bearer token (or none)."""

    def __init__(self, user=None, *, client=None):
        self.client = client or Client()
        self.headers = {}
        if user is not None:
            self.token = accounts.issue_token(user, name="tests", actor=SYSTEM)
            self.headers["Authorization"] = f"Bearer {self.token}"

    def send(self, method, path, body=None, **headers):
        kwargs = {"headers": {**self.headers, **headers}}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs)

    def get(self, path, **headers):
        return self.send("get", path, **headers)

    def post(self, path, body=None, **headers):
        return self.send("post", path, {} if body is None else body, **headers)

    def patch(self, path, body, **headers):
        return self.send("patch", path, body, **headers)

    def delete(self, path, **headers):
        return self.send("delete", path, **headers)


def browser(user=None) -> Client:
    """A browser session, signed in as ``user`` (or anonymous)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def contains_hit(payload, record) -> bool:
    """Whether a JSON answer names ``record`` (its id, with its type if the hit has one)."""
    if isinstance(payload, dict):
        type_ok = payload.get("type", record._meta.label_lower) == record._meta.label_lower
        if payload.get("id") == record.pk and type_ok and ("name" in payload or "type" in payload):
            return True
        return any(contains_hit(v, record) for v in payload.values())
    if isinstance(payload, list):
        return any(contains_hit(v, record) for v in payload)
    return False


def body_of(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def exported_rows(response, fmt: str) -> list[list[str]]:
    """The rows of a CSV or XLSX export, every cell as text."""
    if fmt == "csv":
        return list(csv.reader(io.StringIO(body_of(response).decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(body_of(response)), read_only=True).active
    return [
        ["" if cell is None else str(cell) for cell in row]
        for row in sheet.iter_rows(values_only=True)
    ]
