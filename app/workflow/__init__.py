"""依申请救助: the states of an application, who may act at each, and deadlines in working days."""
