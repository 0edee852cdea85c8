from django.urls import path

from . import views

app_name = "savedviews"

urlpatterns = [
    path("views/", views.save_view, name="save"),
    path("views/<int:pk>/", views.change_view, name="change"),
]
