from django.urls import path

from feedback import views

app_name = "feedback"

urlpatterns = [
    path("vote/", views.vote_create, name="vote"),
]
