"""Spreadsheets as users have them, made here: Google and Outlook contact exports, a
Russian Excel workbook and its CSV twin saved in cp1251."""

from __future__ import annotations

import csv
import datetime
import io

import openpyxl

GOOGLE_HEADERS = [
    "First Name", "Middle Name", "Last Name", "Nickname", "File As",
    "Organization Name", "Organization Title", "Birthday", "Notes", "Labels",
    "E-mail 1 - Label", "E-mail 1 - Value", "E-mail 2 - Label", "E-mail 2 - Value",
    "Phone 1 - Label", "Phone 1 - Value", "Address 1 - Label", "Address 1 - Street",
    "Address 1 - City", "Address 1 - Region", "Address 1 - Postal Code", "Address 1 - Country",
]  # fmt: skip

OUTLOOK_HEADERS = [
    "Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company", "Department",
    "Job Title", "Business Street", "Business City", "Business State",
    "Business Postal Code", "Business Country/Region", "Business Phone", "Home Phone",
    "Mobile Phone", "E-mail Address", "E-mail 2 Address", "Birthday", "Notes", "Categories",
]  # fmt: skip

RUSSIAN_HEADERS = ["Фамилия", "Имя", "Отчество", "Должность", "Компания", "ИНН", "Телефон",
                   "Эл. почта", "Город", "Дата рождения", "Примечание"]  # fmt: skip


def csv_bytes(headers, rows, *, encoding="utf-8", delimiter=",") -> bytes:
    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def google_contacts(rows) -> bytes:
    """Google Contacts' "Google CSV": UTF-8, comma, its column names; ``rows`` are
    dicts by column name."""
    return csv_bytes(GOOGLE_HEADERS, [[row.get(h, "") for h in GOOGLE_HEADERS] for row in rows])


def outlook_contacts(rows) -> bytes:
    """Outlook's contacts export: its column names, the system's code page."""
    return csv_bytes(
        OUTLOOK_HEADERS, [[row.get(h, "") for h in OUTLOOK_HEADERS] for row in rows],
        encoding="latin-1",
    )  # fmt: skip


RUSSIAN_ROWS = [
    ["Иванов", "Иван", "Петрович", "Директор", "ООО «Ромашка»", "7707083893",
     "+7 (916) 123-45-67", "ivanov@romashka.ru", "Москва",
     datetime.date(1980, 5, 17), "Ключевой клиент"],
    ["Петрова", "Анна", "Сергеевна", "Бухгалтер", "ООО «Ромашка»", "7707083893",
     "8 916 765-43-21", "petrova@romashka.ru", "Москва", datetime.date(1985, 11, 2), ""],
    ["Сидоров", "Олег", "", "Менеджер", "АО «Вектор»", "7736207543",
     "+7 495 111-22-33", "sidorov@vector.ru", "Санкт-Петербург", None, "Звонить после обеда"],
]  # fmt: skip


def russian_workbook(rows=RUSSIAN_ROWS, *, extra_sheet=True) -> bytes:
    """A Russian contact list as Excel keeps it: a title sheet first when asked, dates
    as dates, phones as text."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if extra_sheet:
        sheet.title = "Сводка"
        sheet.append(["Выгрузка клиентов"])
        sheet = workbook.create_sheet("Клиенты")
    else:
        sheet.title = "Клиенты"
    sheet.append(RUSSIAN_HEADERS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def russian_csv(rows=RUSSIAN_ROWS) -> bytes:
    """The workbook's twin as Excel saves "CSV" on a Russian Windows: cp1251, semicolons,
    dates as DD.MM.YYYY."""
    as_text = [
        [
            cell.strftime("%d.%m.%Y") if isinstance(cell, datetime.date) else (cell or "")
            for cell in row
        ]
        for row in rows
    ]
    return csv_bytes(RUSSIAN_HEADERS, as_text, encoding="cp1251", delimiter=";")
