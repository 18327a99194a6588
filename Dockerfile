# Gatehouse in a container: the one-file bundle (`deno task bundle` → dist/gatehouse.js) on the
# official Deno image. Not built or tested on the project's build machines (no registry access
# there); see README "Deployment".
#
#   deno task bundle
#   docker build -t gatehouse .
#   docker run --rm -p 5520:5520/udp -v /srv/gatehouse:/etc/gatehouse:ro gatehouse
#
# UDP receive buffers are host settings (net.core is not namespaced): raise them on the host.
FROM denoland/deno:2.9.6

COPY dist/gatehouse.js /app/gatehouse.js
WORKDIR /etc/gatehouse
USER deno
EXPOSE 5520/udp

# The launcher's flags; `start` runs the router as a child with exactly the grants the config
# needs (read: /etc/gatehouse and the files it names; net: listen/admin/gRPC addresses).
ENTRYPOINT ["deno", "run", "--no-config", "--no-prompt", "--allow-read", "--allow-run", \
  "--allow-env=LOG_TOKENS,LOG_STREAM,READABLE_STREAM,KUBERNETES_SERVICE_HOST,KUBERNETES_SERVICE_PORT", "/app/gatehouse.js", "start"]
CMD ["--config", "/etc/gatehouse/config.yaml", "--log-format", "json"]
