# Parley in a container: a static binary with the web app embedded, on
# distroless/static (CA certificates, time zones, no shell), run as a
# non-root user, its data in the volume /data.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t parley .
#   docker run -d --name parley -p 8080:8080 -v parley-data:/data parley
#
# See docs/deploy.md, Docker.

FROM node:22-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=web /src/web/dist/app web/dist/app
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/parley ./cmd/parley \
    && /out/parley version \
    && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/parley /parley
# The data dir, owned by the image's non-root user (uid 65532), so that a
# new named volume starts with that owner.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV PARLEY_ADDR=0.0.0.0:8080 \
    PARLEY_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/parley", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/parley"]
CMD ["serve"]
