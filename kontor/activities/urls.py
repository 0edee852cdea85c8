from kontor.web.records import record_urls

from .types import TASK

app_name = "activities"

urlpatterns = [*record_urls(TASK)]
