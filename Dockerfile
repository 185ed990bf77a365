# syntax=docker/dockerfile:1
# The orchestrator executable in an image: the SDK image restores, builds and publishes it; the ASP.NET Core runtime
# image runs it as a non-root user. `docker build -t orchestrator .`, then `docker run orchestrator serve` (or `worker
# --driver sim --host H --urls http://+:5081`, or any other command): the image's entrypoint is the executable.
# Settings come from the environment (ConnectionStrings__Postgres, …) or an appsettings.json mounted beside the
# executable at /app/appsettings.json (docs/deploy.md).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# The project files first: the restore layer stays cached until a package or project reference changes.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Contracts/Contracts.csproj src/Contracts/
COPY src/Workflows/Workflows.csproj src/Workflows/
COPY src/Workers/Workers.csproj src/Workers/
COPY src/ReadModels/ReadModels.csproj src/ReadModels/
COPY src/Orchestrator/Orchestrator.csproj src/Orchestrator/
RUN dotnet restore src/Orchestrator/Orchestrator.csproj
COPY src/ src/
# The AsyncAPI document the executable serves at /asyncapi.json.
COPY docs/asyncapi.json docs/
RUN dotnet publish src/Orchestrator/Orchestrator.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# curl: the health checks (compose's, a probe run inside the container) ask /health/ready over HTTP.
# /var/lib/orchestrator: a worker's fencing epochs (Worker__StateDirectory below), owned by the image's non-root user
# so that a volume mounted there starts with that owner.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/orchestrator/epochs \
    && chown -R "$APP_UID" /var/lib/orchestrator
WORKDIR /app
COPY --from=build /app ./
# serve listens on every interface of the container (its --urls, when given, wins); the base image's own port setting
# is cleared so that only this one applies. A worker's HTTP port is its --urls.
ENV ASPNETCORE_URLS=http://+:5080 \
    ASPNETCORE_HTTP_PORTS= \
    Worker__StateDirectory=/var/lib/orchestrator/epochs
EXPOSE 5080
# The base image's non-root user (APP_UID, 1654).
USER $APP_UID
ENTRYPOINT ["/app/orchestrator"]
CMD ["--help"]
