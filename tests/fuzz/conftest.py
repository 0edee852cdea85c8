"""The fuzz step's summary: operations and examples per role, answers by status class."""

import collections


def pytest_terminal_summary(terminalreporter):
    operations = collections.Counter()
    answers: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", ()):
                if name == "fuzz" and getattr(report, "when", "") == "teardown":
                    operations[value["role"]] += 1
                    answers[value["role"]].update(value["statuses"])
    if not operations:
        return
    terminalreporter.section("schema fuzzing")
    for role in sorted(operations):
        examples = sum(answers[role].values())
        by_class = ", ".join(f"{k}: {v}" for k, v in sorted(answers[role].items()))
        terminalreporter.write_line(
            f"{role:<7} {operations[role]} operations, {examples} examples ({by_class})"
        )
