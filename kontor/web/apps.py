from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kontor.web"
    label = "web"
    verbose_name = "Web UI"
