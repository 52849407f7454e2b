FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY pyproject.toml manage.py ./
# Every package pyproject.toml installs ([tool.setuptools.packages.find]); tests/test_layout.py checks the list.
COPY config ./config
COPY common ./common
COPY portal ./portal
COPY apel ./apel
COPY federation ./federation
COPY marketplace ./marketplace
COPY accounting ./accounting
COPY events ./events
COPY providers ./providers
COPY notifications ./notifications
COPY webhooks ./webhooks
COPY waldur_provider ./waldur_provider
COPY protocol ./protocol
COPY site_agent ./site_agent
COPY templates ./templates
RUN pip install --no-cache-dir . && useradd --create-home app && mkdir -p /app/var && chown app /app/var
USER app
RUN DEBUG=1 python manage.py collectstatic --noinput -v0
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "-b", "0.0.0.0:8000", "-w", "3", "--access-logfile", "-"]
