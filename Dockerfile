# syntax=docker/dockerfile:1
# For those who build with Docker. `make image` builds the same image without
# Docker or network (deploy/image): the same static binary, user 65532,
# entrypoint, port and no shell. This file cannot be built on the project's
# own machines (no Docker engine), so it is kept simple; deploy/image's test
# checks that its Go version and its settings match.
ARG GO_VERSION=1.26.10

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETARCH=amd64
# The release `onboard version` prints (docker build --build-arg VERSION=v1.2.3).
ARG VERSION=dev
# Static (no libc), no paths of this machine, no VCS stamp but the version.
RUN CGO_ENABLED=0 GOOS=linux GOARCH=${TARGETARCH} GOTOOLCHAIN=local \
    go build -trimpath -buildvcs=false -ldflags="-s -w -X main.version=${VERSION}" -o /out/onboard ./cmd/onboard

# Distroless static: CA certificates, /etc/passwd with nonroot (65532), no
# shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/onboard /onboard
ENV ONBOARD_ADDR=:8080
EXPOSE 8080
USER 65532:65532
WORKDIR /home/nonroot
LABEL org.opencontainers.image.title=onboard \
      org.opencontainers.image.source=https://github.com/onboard-altinn/onboard
ENTRYPOINT ["/onboard"]
CMD ["serve"]
