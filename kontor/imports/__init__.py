"""Import wizard: spreadsheets of any registered record type into Kontor."""
