from kontor.web.records import record_urls

from .types import DEAL

app_name = "sales"

urlpatterns = [
    *record_urls(DEAL),
]
