from django.db import migrations, models


def body_text_fill(apps, schema_editor):
    """Plain text for the articles that exist (saves keep it current from now on)."""
    from articles.markdown import markdown_render

    ArticlePage = apps.get_model("articles", "ArticlePage")
    for article in ArticlePage.objects.only("pk", "body").iterator():
        ArticlePage.objects.filter(pk=article.pk).update(
            body_text=markdown_render(article.body).text
        )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0002_article_audience"),
    ]

    operations = [
        migrations.AddField(
            model_name="articlepage",
            name="body_text",
            field=models.TextField(
                blank=True,
                default="",
                editable=False,
                help_text="The body as plain text, kept on save for search snippets and bot answers.",
            ),
        ),
        migrations.RunPython(body_text_fill, migrations.RunPython.noop),
    ]
