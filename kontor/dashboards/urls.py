from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("dashboard/copy/", views.copy, name="copy"),
    path("dashboard/<int:pk>/", views.change, name="change"),
    path("dashboard/<int:pk>/widgets/", views.add, name="add"),
    path("dashboard/<int:pk>/widgets/form/", views.add_form, name="add_form"),
    path("dashboard/widgets/<int:pk>/", views.change_widget, name="widget"),
    path("settings/dashboards/", views.dashboard_admin, name="dashboard_admin"),
]
