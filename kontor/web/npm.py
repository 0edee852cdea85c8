"""Static files from npm packages: the few built files Kontor serves, read from node_modules.

package.json pins the packages and ``npm ci`` installs them (scripts/start and scripts/test
do); nothing third-party is committed. ``KONTOR_NPM_STATIC_FILES`` names each file by its
path under node_modules, and it is served at ``vendor/<that path>``: the templates use
``{% static "vendor/chart.js/dist/chart.umd.min.js" %}``. Only the named files are exposed
(not a package's sources, maps and type declarations), and a missing one is a system-check
error, so ``kontor check``, ``collectstatic`` and the tests fail loudly instead of a page
drawing no chart.
"""

from pathlib import Path, PurePosixPath

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core import checks
from django.core.files.storage import FileSystemStorage

PREFIX = "vendor"


class NpmFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.root = Path(settings.KONTOR_NODE_MODULES)
        self.files = [PurePosixPath(name) for name in settings.KONTOR_NPM_STATIC_FILES]

    def _source(self, name: PurePosixPath) -> Path:
        return self.root.joinpath(*name.parts)

    def check(self, **kwargs):
        return [
            checks.Error(
                f"The npm file {name} is missing from {self.root}.",
                hint="Run `npm ci` in the repository root (./scripts/start and "
                "./scripts/test run it).",
                id="web.E001",
            )
            for name in self.files
            if not self._source(name).is_file()
        ]

    def find(self, path, find_all=False, **kwargs):
        for name in self.files:
            source = self._source(name)
            if path == f"{PREFIX}/{name}" and source.is_file():
                return [str(source)] if find_all else str(source)
        return []

    def list(self, ignore_patterns):
        for name in self.files:
            if self._source(name).is_file():
                storage = FileSystemStorage(location=self._source(name.parent))
                storage.prefix = f"{PREFIX}/{name.parent}"
                yield name.name, storage
