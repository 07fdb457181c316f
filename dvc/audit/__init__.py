"""The audit trail (アクセス記録): who viewed or changed survivors' and volunteers' records,
read from the one event log and searched by the head of the centre."""
