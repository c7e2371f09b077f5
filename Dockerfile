# Builds a static licensing binary and runs it as a non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/licensing ./cmd/licensing

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/licensing /usr/local/bin/licensing
EXPOSE 3000
ENTRYPOINT ["/usr/local/bin/licensing"]
CMD ["serve"]
