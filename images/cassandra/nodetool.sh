#!/bin/sh
# nodetool against the node in this container (JMX on loopback only).
exec java -Xmx128m -cp '/opt/cassandra/lib/*' org.apache.cassandra.tools.NodeTool -h 127.0.0.1 -p 7199 "$@"
