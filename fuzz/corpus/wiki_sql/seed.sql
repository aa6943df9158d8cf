CREATE TABLE `redirect` (
  `rd_from` int,
  `rd_namespace` int,
  `rd_title` varbinary(255),
  `rd_interwiki` varbinary(32),
  `rd_fragment` varbinary(255)
);
INSERT INTO `redirect` VALUES (1,0,'A_b\'c','',NULL),(2,4,'X','','');
