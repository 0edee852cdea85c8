from django.urls import path

from . import views

app_name = "savedviews"

urlpatterns = [
    path("views/", views.save_view, name="save"),
    path("views/<int:pk>/", views.change_view, name="change"),
    path("views/<int:pk>/preference/", views.view_preference, name="preference"),
    path("settings/views/", views.views_admin, name="views_admin"),
    path("settings/views/<int:pk>/delete/", views.views_admin_delete, name="views_admin_delete"),
    path("settings/views/defaults/", views.role_default_set, name="views_default_set"),
    path(
        "settings/views/defaults/<int:pk>/remove/",
        views.role_default_remove,
        name="views_default_remove",
    ),
]
