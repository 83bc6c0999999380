#!/bin/sh
# The deploy job of the deploy test: a "migration" that takes a moment.
echo "migrating"
sleep 3
date +%s > /tmp/migrated
echo "migrated"
