#!/bin/sh
# product-store/cassandra: one Cassandra 5.0 node on JDK 17, the local stack's jars and JVM
# flags (/etc/cassandra/jvm.options, generated from devstack/cassandra.py at build time).
# Renders cassandra.yaml from the environment into the data volume (the root filesystem
# stays read-only), then runs CassandraDaemon in the foreground.
set -eu
: "${CASSANDRA_LISTEN_ADDRESS:=$(hostname -i | cut -d' ' -f1)}"
: "${CASSANDRA_SEEDS:=$CASSANDRA_LISTEN_ADDRESS}"
: "${CASSANDRA_CLUSTER_NAME:=product-store}"
: "${CASSANDRA_NUM_TOKENS:=16}"
: "${CASSANDRA_DC:=dc1}"
: "${CASSANDRA_RACK:=rack1}"
: "${CASSANDRA_AUTHENTICATOR:=AllowAllAuthenticator}"
: "${CASSANDRA_AUTHORIZER:=AllowAllAuthorizer}"
: "${CASSANDRA_HEAP:=1G}"
# Extra JVM flags, e.g. a lone test node's -Dcassandra.ring_delay_ms=100 (word-split).
: "${CASSANDRA_JVM_EXTRA_OPTS:=}"
export CASSANDRA_LISTEN_ADDRESS CASSANDRA_SEEDS CASSANDRA_CLUSTER_NAME CASSANDRA_NUM_TOKENS \
       CASSANDRA_AUTHENTICATOR CASSANDRA_AUTHORIZER

data=/var/lib/cassandra
conf="$data/conf"
mkdir -p "$conf" "$data/data" "$data/commitlog" "$data/saved_caches" "$data/hints" \
         "$data/cdc_raw" "$data/dumps"
# ${NAME} → the variable's value, for the names the template uses (all set above).
sed_script=""
for name in $(grep -o '\${[A-Z_]*}' /etc/cassandra/cassandra.yaml | tr -d '${}' | sort -u); do
  eval "value=\${$name}"
  sed_script="${sed_script}s|\${$name}|$value|g;"
done
sed "$sed_script" /etc/cassandra/cassandra.yaml > "$conf/cassandra.yaml"
printf 'dc=%s\nrack=%s\nprefer_local=true\n' "$CASSANDRA_DC" "$CASSANDRA_RACK" \
  > "$conf/cassandra-rackdc.properties"

# shellcheck disable=SC2086
exec java @/etc/cassandra/jvm.options "-Xms$CASSANDRA_HEAP" "-Xmx$CASSANDRA_HEAP" $CASSANDRA_JVM_EXTRA_OPTS \
  "-Dcassandra.config=file://$conf/cassandra.yaml" \
  "-Dcassandra-rackdc.properties=file://$conf/cassandra-rackdc.properties" \
  -cp '/opt/cassandra/lib/*' org.apache.cassandra.service.CassandraDaemon
