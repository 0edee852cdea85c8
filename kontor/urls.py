from django.urls import include, path

urlpatterns = [
    path("", include("kontor.web.urls")),
]
