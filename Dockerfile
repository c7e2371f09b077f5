# Builds a static licensing binary and runs it as a non-root user in a
# distroless image, which has no shell: the HEALTHCHECK runs the binary's
# own healthcheck command.
#
#   docker build --build-arg VERSION=v1.2.3 -t licensing:v1.2.3 .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/licensing ./cmd/licensing \
	&& /out/licensing version

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="licensing" \
	org.opencontainers.image.version="${VERSION}" \
	org.opencontainers.image.source="https://github.com/rescuepc/licensing"
COPY --from=build /out/licensing /usr/local/bin/licensing
USER nonroot:nonroot
ENV HTTP_ADDR=:3000
EXPOSE 3000
# Readiness: the container turns unhealthy when PostgreSQL does not answer
# and while it drains after SIGTERM.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
	CMD ["/usr/local/bin/licensing", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/licensing"]
CMD ["serve"]
