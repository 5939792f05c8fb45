# Dashboards (Panel); instrument plugins without their reduction extras, so no reduction stack.
# Build from the repository root: docker build -f docker/dashboard.Dockerfile .
FROM python:3.12-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY packages/livedata-core packages/livedata-core
COPY packages/livedata-protocol packages/livedata-protocol
COPY packages/livedata-ess packages/livedata-ess
COPY packages/livedata-kafka packages/livedata-kafka
COPY packages/livedata-dashboard packages/livedata-dashboard
COPY instruments instruments
RUN pip install packages/livedata-core packages/livedata-protocol packages/livedata-ess packages/livedata-kafka packages/livedata-dashboard instruments/*/ \
    && useradd --create-home livedata \
    && install -d -o livedata /var/lib/livedata/dashboard
USER livedata
WORKDIR /home/livedata
ENV LIVEDATA_INSTRUMENT=dummy
CMD ["python", "-m", "ess.livedata.dashboard.monitors"]
